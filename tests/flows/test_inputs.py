"""Reading recorded inputs: a trade that two DBN files of one session carry counts once (files written here)."""

from __future__ import annotations

import logging
from pathlib import Path

import databento_dbn as dbn
import pytest

from events.models import AnyEvent, OptionPrint
from flows.inputs import InputStats, check_inputs, read_inputs
from tests.connectors.databento import (
    EMLD,
    IID,
    OSI,
    T0,
    XISX,
    XNAS_ITCH,
    cmbp1,
    mbp1,
    metadata,
    trade,
    write_dbn,
)

# Three venue trades; the second and third share ts_event and sequence (one OPRA block), told apart by order.
_TRADES = [
    {"publisher_id": EMLD, "ts_event": T0, "price": 240_000_000, "size": 1, "sequence": 10},
    {"publisher_id": XISX, "ts_event": T0 + 5_000, "price": 200_000_000, "size": 2, "sequence": 20},
    {"publisher_id": XISX, "ts_event": T0 + 5_000, "price": 190_000_000, "size": 1, "sequence": 20},
]


def _files(tmp_path: Path, dataset: str = "OPRA.PILLAR", publisher_id: int | None = None) -> tuple[Path, Path]:
    symbols = {OSI: IID} if dataset.startswith("OPRA.") else {"QQQ": IID}
    rows = [{**row, "publisher_id": publisher_id or row["publisher_id"]} for row in _TRADES]
    trades = write_dbn(
        tmp_path / "day.trades.dbn.zst",
        metadata(dataset, dbn.Schema.TRADES, symbols),
        [trade(**row) for row in rows],
    )
    tbbo = write_dbn(
        tmp_path / "day.tbbo.dbn.zst",
        metadata(dataset, dbn.Schema.TBBO, symbols),
        [mbp1(bid=180_000_000, ask=220_000_000, **row) for row in rows],
    )
    return trades, tbbo


def _prints(events: list[AnyEvent]) -> list[AnyEvent]:
    return [e for e in events if e.event_type.endswith("_print")]


@pytest.mark.parametrize("order", ["trades-first", "tbbo-first"])
def test_trades_and_tbbo_of_one_session_count_each_trade_once(
    tmp_path: Path, order: str, caplog: pytest.LogCaptureFixture
) -> None:
    trades, tbbo = _files(tmp_path)
    paths = [trades, tbbo] if order == "trades-first" else [tbbo, trades]
    stats = InputStats()
    check_inputs(paths)
    with caplog.at_level(logging.WARNING, logger="flows.inputs"):
        events = list(read_inputs(paths, stats))
    prints = _prints(events)
    assert len(prints) == 3
    assert [e.id for e in prints] == [e.id for e in read_inputs([trades], InputStats())]
    assert len({e.id for e in prints}) == 3
    # The copy carrying its venue's book at trade wins, whichever file came first.
    assert all(isinstance(e, OptionPrint) and e.nbbo_ask_e9 == 220_000_000 for e in prints)
    assert stats.events_by_type == {"option_print": 3}
    assert stats.notices == ["3 trades seen in both day.tbbo.dbn.zst and day.trades.dbn.zst: counted once"]
    assert stats.notices[0] in caplog.text


@pytest.mark.parametrize(
    ("dataset", "publisher_id"), [("XNAS.ITCH", XNAS_ITCH), ("EQUS.MINI", 95)], ids=["itch", "mini"]
)
def test_equity_trades_and_tbbo_count_each_trade_once(tmp_path: Path, dataset: str, publisher_id: int) -> None:
    stats = InputStats()
    events = list(read_inputs(list(_files(tmp_path, dataset, publisher_id)), stats))
    prints = _prints(events)
    assert len(prints) == len({e.id for e in prints}) == 3
    assert all(e.__dict__["ask_e9"] == 220_000_000 for e in prints)
    assert sum(stats.counted_once.values()) == 3


def test_one_file_read_alone_drops_nothing(tmp_path: Path) -> None:
    trades, _ = _files(tmp_path)
    stats = InputStats()
    assert len(_prints(list(read_inputs([trades], stats)))) == 3
    assert stats.notices == []


def test_tcbbo_with_a_venue_trade_schema_is_refused_naming_the_files(tmp_path: Path) -> None:
    trades, _ = _files(tmp_path)
    tcbbo = write_dbn(tmp_path / "day.tcbbo.dbn.zst", metadata("OPRA.PILLAR", dbn.Schema.TCBBO, {OSI: IID}), [cmbp1()])
    with pytest.raises(ValueError, match=r"day\.trades\.dbn\.zst \(trades\) and .*day\.tcbbo\.dbn\.zst \(tcbbo\)"):
        check_inputs([trades, tcbbo])


def test_tcbbo_of_another_dataset_is_not_refused(tmp_path: Path) -> None:
    trades, _ = _files(tmp_path)
    tcbbo = write_dbn(tmp_path / "other.tcbbo.dbn.zst", metadata("OPRA.OTHER", dbn.Schema.TCBBO, {OSI: IID}), [cmbp1()])
    check_inputs([trades, tcbbo])


def test_a_line_decoding_fails_on_is_a_dead_letter_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.inputs

    def explode(data: bytes | str, source: str = "jsonl") -> AnyEvent:
        raise RecursionError("maximum recursion depth exceeded while decoding a JSON array")

    path = tmp_path / "tape.jsonl"
    path.write_bytes(b'{"event_type": "option_print"}\n\n[[[]]]\n')
    monkeypatch.setattr(flows.inputs, "decode_any", explode)
    stats = InputStats()
    assert list(flows.inputs.read_jsonl(path, stats)) == []
    assert [(d.offset, d.error) for d in stats.dead_letters] == [(1, "undecodable"), (3, "undecodable")]
    assert (
        stats.dead_letters[0].reason == "RecursionError: maximum recursion depth exceeded while decoding a JSON array"
    )
    assert stats.dead_letters_by_error == {"undecodable": 2}
