"""Structure classifiers (BEHAVIOR section 6): a hit per named structure with direction, confidence, the rule with
its numbers, plain-English explanations and the legs' print ids.

They fire only on structures of at least `structure_classifier_min_premium_usd` gross premium (flagged or not):
smaller ones are still reported as structures (`operators.structures`).
"""

from __future__ import annotations

from collections.abc import Callable

from events.config import OptionsConfig
from events.ids import derived_event_id
from events.models import ClassifierHit, Direction, Side, Structure, StructureLeg
from events.units import CENTS_PER_USD, PRICE_SCALE, format_price, format_usd
from operators.classifiers.common import POOR_QUOTES_COVERAGE


def _leg_text(leg: StructureLeg) -> str:
    verb = {"buy": "bought", "sell": "sold", "unknown": "side unknown:"}[leg.side]
    return (
        f"{verb} {leg.size_contracts:,} {leg.expiry:%Y-%m-%d} {format_price(leg.strike_e9)}{leg.right} "
        f"@ {format_price(leg.vwap_e9, 4)} ({format_usd(leg.premium_cents)})"
    )


def _premium_text(structure: Structure) -> str:
    net = structure.net_premium_cents
    if net is None:
        return f"net premium unknown (a leg's side is unknown), {format_usd(structure.gross_premium_cents)} gross"
    if net == 0:
        return f"net premium even, {format_usd(structure.gross_premium_cents)} gross"
    return f"net {structure.net_premium} {format_usd(abs(net))}, {format_usd(structure.gross_premium_cents)} gross"


def _legs_text(structure: Structure) -> str:
    return f"{structure.underlying} {structure.structure_type}: " + "; ".join(_leg_text(leg) for leg in structure.legs)


def _poor_quotes(structure: Structure) -> bool:
    return min(leg.nbbo_coverage for leg in structure.legs) < POOR_QUOTES_COVERAGE


def _confidence(base: float, structure: Structure, bonus: float = 0.0) -> float:
    conf = base + bonus
    if structure.flagged:
        conf += 0.15
    if structure.net_premium == "unknown":
        conf -= 0.2
    if len({leg.size_contracts for leg in structure.legs}) == 1:
        conf += 0.05
    conf -= 0.3 * (1.0 - min(leg.nbbo_coverage for leg in structure.legs))
    return round(min(1.0, max(0.05, conf)), 4)


def _metrics(structure: Structure, extra: dict[str, float] | None = None) -> dict[str, float]:
    metrics = {
        **structure.metrics,
        "gross_premium_usd": structure.gross_premium_cents / 100,
        "size_contracts": float(structure.size_contracts),
        "min_nbbo_coverage": min(leg.nbbo_coverage for leg in structure.legs),
    }
    if structure.net_premium_cents is not None:
        metrics["net_premium_usd"] = structure.net_premium_cents / 100
    return {**metrics, **(extra or {})}


def _hit(
    classifier: str,
    structure: Structure,
    direction: Direction,
    confidence: float,
    rule: str,
    metrics: dict[str, float],
    explanations: list[str],
) -> ClassifierHit:
    return ClassifierHit(
        id=derived_event_id("hit", (classifier, structure.id)),
        ts_event=structure.ts_event,
        underlying=structure.underlying,
        symbol=structure.underlying,
        subject_type="structure",
        subject_id=structure.id,
        classifier=classifier,
        direction=direction,
        confidence=confidence,
        rule=rule,
        metrics=metrics,
        explanations=tuple(explanations),
        evidence_ids=structure.print_ids,
        premium_cents=structure.gross_premium_cents,
        size_contracts=structure.size_contracts,
    )


def _read_of(side: Side, right: str) -> Direction:
    if side == "unknown":
        return "neutral"
    bought = side == "buy"
    if right == "C":
        return "bullish" if bought else "bearish"
    return "bearish" if bought else "bullish"


def _quote_note(structure: Structure) -> str:
    coverage = min(leg.nbbo_coverage for leg in structure.legs)
    if coverage < POOR_QUOTES_COVERAGE:
        return f"Quote context poor (a leg has {coverage:.0%} of its size quoted): direction withheld"
    return f"Every leg has at least {coverage:.0%} of its size with a fresh NBBO"


def vertical_spread(structure: Structure, cfg: OptionsConfig) -> ClassifierHit | None:
    """A vertical: debit or credit spread; debit call / credit put bullish, debit put / credit call bearish."""
    if structure.structure_type != "vertical":
        return None
    low, high = structure.legs
    right = "call" if low.right == "C" else "put"
    rule = (
        "structure_type == vertical; the bought strike decides: bought lower call strike = debit call spread "
        "(bullish), bought higher call strike = credit call spread (bearish), bought higher put strike = debit "
        "put spread (bearish), bought lower put strike = credit put spread (bullish)"
    )
    explanations = [_legs_text(structure) + ".", f"Rule matched: {structure.rule}."]
    direction: Direction = "neutral"
    penalty = 0.0
    if low.side == "unknown" or high.side == "unknown":
        explanations.append(f"Sides unknown: debit or credit cannot be told; {_premium_text(structure)}.")
    else:
        bought_low = low.side == "buy"
        debit = bought_low if low.right == "C" else not bought_low
        kind = f"{'debit' if debit else 'credit'} {right} spread"
        # The dearer leg sets the bet: the lower call strike, the higher put strike.
        dearer = low if low.right == "C" else high
        read = _read_of(dearer.side, dearer.right)
        if structure.net_premium != ("debit" if debit else "credit"):
            # Leg prices say the opposite of the strikes: mixed evidence, no direction claimed.
            penalty = 0.2
            explanations.append(
                f"Strikes read as a {kind} but {_premium_text(structure)}: evidence disagrees, direction neutral."
            )
        elif _poor_quotes(structure):
            explanations.append(f"{kind.capitalize()}, {_premium_text(structure)}.")
        else:
            direction = read
            explanations.append(
                f"{kind.capitalize()} (bought the {format_price(low.strike_e9 if bought_low else high.strike_e9)} "
                f"{right}), {_premium_text(structure)}: {direction}."
            )
    explanations.append(_quote_note(structure) + ".")
    width = {"strike_width_usd": (high.strike_e9 - low.strike_e9) / PRICE_SCALE}
    return _hit(
        "vertical_spread",
        structure,
        direction,
        _confidence(0.55, structure, -penalty),
        rule,
        _metrics(structure, width),
        explanations,
    )


def straddle_strangle(structure: Structure, cfg: OptionsConfig) -> ClassifierHit | None:
    """A straddle or strangle: long volatility when both legs were bought, short when both were sold; neutral."""
    if structure.structure_type not in ("straddle", "strangle"):
        return None
    sides = {leg.side for leg in structure.legs}
    if sides == {"buy"}:
        read = "long volatility (both legs bought: pays if the underlying moves far either way)"
    elif sides == {"sell"}:
        read = "short volatility (both legs sold: collects premium if the underlying stays put)"
    else:
        read = "volatility direction unknown (a leg's side is unknown)"
    rule = "structure_type in (straddle, strangle); both bought = long volatility, both sold = short volatility"
    explanations = [
        _legs_text(structure) + ".",
        f"Rule matched: {structure.rule}.",
        f"{structure.structure_type.capitalize()}: {read}; {_premium_text(structure)}; direction neutral.",
        _quote_note(structure) + ".",
    ]
    return _hit(
        "straddle_strangle",
        structure,
        "neutral",
        _confidence(0.55, structure, 0.05 if len(sides) == 1 and "unknown" not in sides else 0.0),
        rule,
        _metrics(structure, {"long_volatility": 1.0 if sides == {"buy"} else 0.0}),
        explanations,
    )


def ladder(structure: Structure, cfg: OptionsConfig) -> ClassifierHit | None:
    """A ladder: three or more adjacent strikes on one expiry and right; direction neutral (shape, not a bet)."""
    if structure.structure_type != "ladder":
        return None
    legs = structure.legs
    right = "call" if legs[0].right == "C" else "put"
    rule = "structure_type == ladder (>= 3 adjacent strikes, same expiry and right); direction neutral"
    explanations = [_legs_text(structure) + ".", f"Rule matched: {structure.rule}."]
    sizes = [leg.size_contracts for leg in legs]
    sides = [leg.side for leg in legs]
    if (
        len(legs) == 3
        and sizes[0] == sizes[2]
        and sizes[1] == 2 * sizes[0]
        and sides[0] == sides[2] != "unknown"
        and sides[1] not in (sides[0], "unknown")
    ):
        explanations.append(
            f"Sizes 1:2:1 with the wings {sides[0]} and the body {sides[1]}: a {right} butterfly "
            f"centred on {format_price(legs[1].strike_e9)}."
        )
    explanations.append(f"{_premium_text(structure).capitalize()}; direction neutral.")
    explanations.append(_quote_note(structure) + ".")
    return _hit("ladder", structure, "neutral", _confidence(0.5, structure), rule, _metrics(structure), explanations)


def roll(structure: Structure, cfg: OptionsConfig) -> ClassifierHit | None:
    """A roll: the nearer expiry is read as closed, the farther as opened; up, down or out by the opened strike.

    Direction is that of the opened leg (calls bought / puts sold bullish, puts bought / calls sold bearish).
    """
    if structure.structure_type != "roll":
        return None
    near, far = sorted(structure.legs, key=lambda leg: (leg.expiry, leg.packet_id))
    if far.strike_e9 > near.strike_e9:
        label = "up and out"
    elif far.strike_e9 < near.strike_e9:
        label = "down and out"
    else:
        label = "out"
    right = "call" if far.right == "C" else "put"
    read = _read_of(far.side, far.right)
    direction: Direction = "neutral" if _poor_quotes(structure) else read
    rule = (
        "structure_type == roll; nearer expiry closed, farther opened; up/down by the opened strike vs the closed "
        "one, out by the later expiry; direction of the opened leg"
    )
    explanations = [
        _legs_text(structure) + ".",
        f"Rule matched: {structure.rule}.",
        f"Roll {label}: {near.side} {format_price(near.strike_e9)} {right} {near.expiry:%Y-%m-%d} closed, "
        f"{far.side} {format_price(far.strike_e9)} {right} {far.expiry:%Y-%m-%d} opened "
        f"({(far.expiry - near.expiry).days} days out); {_premium_text(structure)}; "
        f"opened leg reads {read}.",
        _quote_note(structure) + ".",
    ]
    metrics = _metrics(
        structure,
        {
            "roll_up": 1.0 if label == "up and out" else 0.0,
            "roll_down": 1.0 if label == "down and out" else 0.0,
            "strike_change_usd": (far.strike_e9 - near.strike_e9) / PRICE_SCALE,
        },
    )
    return _hit("roll", structure, direction, _confidence(0.5, structure), rule, metrics, explanations)


StructureClassifier = Callable[[Structure, OptionsConfig], ClassifierHit | None]
STRUCTURE_CLASSIFIERS: tuple[StructureClassifier, ...] = (straddle_strangle, vertical_spread, ladder, roll)


def classify_structure(structure: Structure, cfg: OptionsConfig) -> list[ClassifierHit]:
    """Run every structure classifier; return the hits in classifier order.

    A structure under `structure_classifier_min_premium_usd` gross premium fires none: a venue-flagged complex
    order of a few contracts is a structure, and not one a trader needs to read.
    """
    if structure.gross_premium_cents < cfg.structure_classifier_min_premium_usd * CENTS_PER_USD:
        return []
    hits = []
    for classifier in STRUCTURE_CLASSIFIERS:
        hit = classifier(structure, cfg)
        if hit is not None:
            hits.append(hit)
    return hits
