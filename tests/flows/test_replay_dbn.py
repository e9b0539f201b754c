"""`flowtape replay` on Databento's real sample files (skipped when ../shared/data is absent)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import databento
import databento_dbn as dbn

from cli.main import main
from events.config import OptionsConfig
from events.models import OptionPrint, Packet
from flows.inputs import InputStats, read_inputs
from operators.nbbo_join import NbboJoin
from operators.options_engine import OptionsEngine
from tests.factories import trade_ns


def test_replay_opra_tbbo_sample(shared_data: Path, tmp_path: Path) -> None:
    sample = shared_data / "databento" / "OPRA.PILLAR" / "test_data.tbbo.dbn.zst"
    out = tmp_path / "out"
    assert main(["replay", str(sample), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events_in"] == {"option_print": 4}
    packets = [json.loads(line) for line in (out / "flow.packets.jsonl").read_text().splitlines()]
    assert sum(p["print_count"] for p in packets) == 4
    assert all(p["symbol"].startswith("AAPL  ") for p in packets)


def test_replay_opra_with_reference_data(shared_data: Path, tmp_path: Path) -> None:
    opra = shared_data / "databento" / "OPRA.PILLAR"
    files = [opra / f"test_data.{schema}.dbn.zst" for schema in ("trades", "definition", "statistics", "cbbo-1s")]
    out = tmp_path / "out"
    assert main(["replay", *map(str, files), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events_in"]["option_definition"] == 1
    assert summary["events_in"]["open_interest"] == 4
    assert summary["events_out"]["flow.packets"] >= 1


def _tbbo_truth(path: Path) -> list[tuple[int, int, str]]:
    """(price, contracts, where) per trade, from databento's own decoder: each record's price against the
    venue book it carries."""
    truth: list[tuple[int, int, str]] = []
    for record in databento.DBNStore.from_bytes(path.read_bytes()):
        assert isinstance(record, dbn.MBP1Msg)
        bid, ask = record.levels[0].bid_px, record.levels[0].ask_px
        assert bid <= ask, "no record's own book is crossed"
        where = (
            "bid"
            if record.price == bid
            else "ask"
            if record.price == ask
            else "inside"
            if bid < record.price < ask
            else "away"
        )
        truth.append((record.price, record.size, where))
    return truth


def test_opra_tbbo_sample_is_placed_against_each_records_own_quote(shared_data: Path, tmp_path: Path) -> None:
    # Databento's OPRA tbbo sample: four trades of one contract on three venues, 8 contracts. Joined into one
    # book, a venue's 0.24 bid (consumed by its own trade) met another venue's 0.22 ask: 7 contracts CROSSED.
    sample = shared_data / "databento" / "OPRA.PILLAR" / "test_data.tbbo.dbn.zst"
    truth = _tbbo_truth(sample)
    assert [where for _, _, where in truth] == ["bid", "inside", "inside", "bid"]
    config = OptionsConfig()
    join = NbboJoin(config.nbbo_max_age_ns, config.at_side_band)
    placements: list[str] = []
    for event in read_inputs([sample], InputStats()):
        assert isinstance(event, OptionPrint)
        placements.append(join.on_print(event).placement)
    assert placements == ["B", "MID", "MID", "B"]
    contracts: Counter[str] = Counter()
    for placement, (_, size, _) in zip(placements, truth, strict=True):
        contracts[placement] += size
    assert contracts == {"B": 5, "MID": 3}, "5 contracts at the bid, 3 inside the spread, none CROSSED"

    out = tmp_path / "out"
    assert main(["replay", str(sample), "--out", str(out), "--quiet"]) == 0
    packets = [json.loads(line) for line in (out / "flow.packets.jsonl").read_text().splitlines()]
    sizes: Counter[str] = Counter()
    for packet in packets:
        sizes.update(packet["placement_sizes"])
    assert +sizes == {"B": 5, "MID": 3}


def test_replay_of_trades_and_tbbo_counts_each_trade_once(shared_data: Path, tmp_path: Path) -> None:
    # The README's glob (`*.dbn.zst`) passes both files of the session.
    opra = shared_data / "databento" / "OPRA.PILLAR"
    files = [opra / "test_data.trades.dbn.zst", opra / "test_data.tbbo.dbn.zst"]
    alone = [e.id for e in read_inputs(files[:1], InputStats())]
    stats = InputStats()
    both = list(read_inputs(files, stats))
    assert [e.id for e in both] == alone
    assert all(isinstance(e, OptionPrint) and e.nbbo_ask_e9 is not None for e in both), "the tbbo copy is kept"
    assert stats.notices == ["4 trades seen in both test_data.tbbo.dbn.zst and test_data.trades.dbn.zst: counted once"]

    out = tmp_path / "out"
    assert main(["replay", *map(str, files), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events_in"] == {"option_print": 4}
    assert summary["notices"] == stats.notices
    packets = [json.loads(line) for line in (out / "flow.packets.jsonl").read_text().splitlines()]
    assert sum(p["print_count"] for p in packets) == 4


def test_opra_tbbo_sample_has_no_pair_to_imply_the_underlying(shared_data: Path, tmp_path: Path) -> None:
    # The sample's four trades are all one AAPL call, each with its venue's book; there is no put at any strike,
    # and no AAPL equity quote in the samples (EQUS.MINI is QQQ, on another day): no underlying price, honestly.
    sample = shared_data / "databento" / "OPRA.PILLAR" / "test_data.tbbo.dbn.zst"
    prints = [e for e in read_inputs([sample], InputStats()) if isinstance(e, OptionPrint)]
    assert {(p.symbol, p.right) for p in prints} == {("AAPL  250221C00250000", "C")}
    assert all(p.underlying_e9 is None and p.nbbo_ask_e9 is not None for p in prints)
    out = tmp_path / "out"
    assert main(["replay", str(sample), "--out", str(out), "--quiet"]) == 0
    packets = [json.loads(line) for line in (out / "flow.packets.jsonl").read_text().splitlines()]
    assert packets
    assert {(p["underlying_e9"], p["underlying_source"], p["underlying_age_ms"]) for p in packets} == {
        (None, None, None)
    }


def test_opra_tbbo_sample_with_a_put_quoted_on_the_tape_implies_the_underlying(shared_data: Path) -> None:
    # The same real call prints, plus one put print of the same strike with its venue book (made up, at a plausible
    # 4.30 x 4.50: the sample has none). The put's packet pairs its quote with the newest call quote the tape
    # carried (0.19 x 0.21, on the last call print): 0.20 - 4.40 + 250 = 245.80. The call packets, opened before
    # any put was seen, have no price.
    sample = shared_data / "databento" / "OPRA.PILLAR" / "test_data.tbbo.dbn.zst"
    calls = [e for e in read_inputs([sample], InputStats()) if isinstance(e, OptionPrint)]
    assert (calls[-1].nbbo_bid_e9, calls[-1].nbbo_ask_e9) == (190_000_000, 210_000_000)
    put_at = calls[-1].ts_event + 1_000_000_000
    put = trade_ns(put_at, "4.40", 1, symbol="AAPL  250221P00250000", nbbo=("4.30", "4.50"))
    engine = OptionsEngine(OptionsConfig())
    out = engine.on_events([*calls, put]) + engine.on_eof()
    packets = [o for o in out if isinstance(o, Packet)]
    assert [(p.right, p.underlying_source) for p in packets] == [("C", None)] * 3 + [("P", "implied")]
    priced = packets[-1]
    assert (priced.underlying_e9, priced.underlying_strike_e9) == (245_800_000_000, 250_000_000_000)
    assert priced.underlying_age_ms == (put_at - calls[-1].ts_event) // 1_000_000
