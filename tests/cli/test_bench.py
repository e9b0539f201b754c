"""`flowtape bench`: every input runs through the plain loop and the flow and they agree on what they derive; the
default run prints every section that is not long, each in its documented format."""

from __future__ import annotations

import re

import pytest

from cli.bench import (
    SECTIONS,
    _sections,
    bytewax_flow,
    contract_floor,
    equities_flow,
    equities_loop,
    main,
    plain_loop,
    with_nbbo_at_trade,
)
from events.config import EquitiesConfig, OptionsConfig
from events.models import OptionNbbo, OptionPrint
from flows.engine_steps import is_option_input
from tests.factories import equity_print, equity_quote
from tests.flows.tapes import two_underlying_tape


def test_tcbbo_input_carries_the_as_of_quote_on_each_print_and_no_quote_stream() -> None:
    tape = two_underlying_tape()
    tcbbo = with_nbbo_at_trade(tape)
    assert not any(isinstance(e, OptionNbbo) for e in tcbbo)
    prints = [e for e in tcbbo if isinstance(e, OptionPrint)]
    assert len(prints) == sum(isinstance(e, OptionPrint) for e in tape)
    for p in prints:
        quotes = [q for q in tape if isinstance(q, OptionNbbo) and q.symbol == p.symbol and q.ts_event <= p.ts_event]
        if quotes:
            newest = max(q.ts_event for q in quotes)
            latest = [q for q in quotes if q.ts_event == newest][-1]  # ties: the later one in the tape wins
            assert (p.nbbo_bid_e9, p.nbbo_ask_e9, p.nbbo_ts) == (latest.bid_e9, latest.ask_e9, latest.ts_event)
        else:
            assert p.nbbo_ask_e9 is None


@pytest.mark.parametrize("tcbbo", [False, True], ids=["quotes", "tcbbo"])
def test_plain_loop_and_flow_derive_the_same_count(tcbbo: bool) -> None:
    tape = with_nbbo_at_trade(two_underlying_tape()) if tcbbo else two_underlying_tape()
    config = OptionsConfig()
    assert plain_loop(tape, config, batch_size=4) == bytewax_flow(tape, config, batch_size=4) > 0


def test_equities_loop_and_flow_derive_the_same_count() -> None:
    tape = [
        equity_quote(0, "580.00", "580.10"),
        equity_print(5, "580.05", 2_500),
        equity_quote(10, "580.00", "580.10"),
        equity_print(1_500, "580.10", 300),
        equity_quote(3_000, "580.00", "580.10"),
    ]
    config = EquitiesConfig()
    assert equities_loop(tape, config, batch_size=2) == equities_flow(tape, config, batch_size=2) > 0


def test_contract_floor_builds_every_derived_event_of_the_plain_loop() -> None:
    tape = two_underlying_tape()
    derived: list[object] = []
    produced = plain_loop(tape, OptionsConfig(), batch_size=4, keep=derived)
    assert produced == len(derived) > 0
    assert contract_floor(tape, is_option_input, derived, 4)() == produced


THROUGHPUT = re.compile(
    r"^  (plain loop|bytewax x1|floor     ) : +([\d,]+) prints/s +([\d,]+) events/s  \(([\d.]+)s wall, ([\d.]+)s cpu, "
    r"([\d,]+) derived\)$",
    re.M,
)


def _section(out: str, name: str) -> str:
    """Return one section's text: from its header line to the next header."""
    start = out.index(f"[{name}]")
    end = out.find("\n[", start + 1)
    return out[start : end if end >= 0 else len(out)]


def test_bench_runs_every_section_that_is_not_long(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--seconds", "1", "--profile", "realistic", "--repeat", "1", "--session-seconds", "3"]
    assert main([*argv, "--decode-messages", "20"]) == 0
    out = capsys.readouterr().out
    for name in ("quotes", "tcbbo", "equities"):
        text = _section(out, name)
        rows = THROUGHPUT.findall(text)
        assert [label.strip() for label, *_ in rows] == ["plain loop", "bytewax x1", "floor"]
        assert len({derived for *_, derived in rows}) == 1
        ratio = re.search(r"^  ratio flow/loop: ([\d.]+)$", text, re.M)
        assert ratio is not None
        loop_s, flow_s = float(rows[0][3]), float(rows[1][3])
        assert float(ratio.group(1)) == pytest.approx(loop_s / flow_s, abs=0.01 + 0.002 / flow_s)
        assert "floor/loop" in text
    assert out.count("ratio flow/loop") == 3
    assert "[decode]" in out
    assert "[session cost]" in out
    assert "[dbn replay]" not in out
    assert "[memory]" not in out


@pytest.mark.parametrize(
    ("value", "long", "sections"),
    [
        ("all", False, ["quotes", "tcbbo", "equities", "decode", "session"]),
        ("all", True, list(SECTIONS)),
        ("both", True, ["quotes", "tcbbo"]),
        ("memory", False, ["memory"]),
        ("session,tcbbo", False, ["tcbbo", "session"]),
        ("dbn, decode", False, ["decode", "dbn"]),
    ],
    ids=["default", "long", "both", "one-long", "two", "spaces"],
)
def test_input_names_sections_in_run_order(value: str, long: bool, sections: list[str]) -> None:
    assert _sections(value, long) == sections


def test_unknown_section_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--input", "tcbbo,speed"])
    assert exited.value.code == 2
    assert "unknown section 'speed'" in capsys.readouterr().err


def test_one_section_runs_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--input", "decode", "--seconds", "1", "--profile", "realistic", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "[decode]" in out
    assert "[tcbbo]" not in out
    assert "[session cost]" not in out
