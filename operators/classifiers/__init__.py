"""The classifiers (BEHAVIOR section 6), in one package: packet classifiers (`packet`), structure classifiers
(`structure`) and what they share (`common`). Each returns hits with direction, confidence, the rule with its
numbers, plain-English explanations and evidence ids; the engine runs them after the packet context
(`operators.packet_context`) and the structure detector (`operators.structures`).
"""

from operators.classifiers.common import POOR_QUOTES_COVERAGE, days_to_expiry, direction_for, session_date
from operators.classifiers.packet import (
    PACKET_CLASSIFIER_IDS,
    PACKET_CLASSIFIERS,
    PacketClassifier,
    block_trade,
    call_overwrite,
    classify_packet,
    far_dated_conviction,
    format_age_ms,
    golden_sweep,
    large_sweep,
    new_position_likely,
    put_write,
    repeated_hits,
    underlying_note,
    unusual_spike,
    unusual_volume,
    zero_dte_gamma,
)
from operators.classifiers.structure import (
    STRUCTURE_CLASSIFIERS,
    StructureClassifier,
    classify_structure,
    ladder,
    roll,
    straddle_strangle,
    vertical_spread,
)
from operators.packet_context import PacketContext, can_matter, min_hit_premium_cents

__all__ = [
    "PACKET_CLASSIFIERS",
    "PACKET_CLASSIFIER_IDS",
    "POOR_QUOTES_COVERAGE",
    "STRUCTURE_CLASSIFIERS",
    "PacketClassifier",
    "PacketContext",
    "StructureClassifier",
    "block_trade",
    "call_overwrite",
    "can_matter",
    "classify_packet",
    "classify_structure",
    "days_to_expiry",
    "direction_for",
    "far_dated_conviction",
    "format_age_ms",
    "golden_sweep",
    "ladder",
    "large_sweep",
    "min_hit_premium_cents",
    "new_position_likely",
    "put_write",
    "repeated_hits",
    "roll",
    "session_date",
    "straddle_strangle",
    "underlying_note",
    "unusual_spike",
    "unusual_volume",
    "vertical_spread",
    "zero_dte_gamma",
]
