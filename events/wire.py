"""msgspec wire types generated from the pydantic contracts: strict, bounded decoding in a few microseconds.

The pydantic models stay the contract types the codebase uses. For each model this module generates a
msgspec `Struct` with the same fields, in the same order, with the same types, defaults, `Literal` tags and
constraints (bounds, lengths, patterns), read from the model's own field annotations: there is no second,
hand-kept copy of any model. A payload is decoded into the Struct (msgspec checks types and bounds as it
parses, in C), the model's own cross-field rules (`Contract.field_checks`: OSI symbol against its fields,
notional bounds, structure legs) run on the decoded values, the same functions pydantic runs after
validating, and the fields are placed into the pydantic model without validating again. Translation is
exhaustive: a constraint this module does not know how to carry over fails at import, so a contract change
cannot silently loosen the fast path.

msgspec never recurses into a value whose type is wrong (a nested array where a number belongs fails at
its first byte), so deep nesting cannot exhaust the stack; JSON with NaN or infinite numbers and strings
that are not UTF-8 are decode errors.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import annotated_types as at
import msgspec
from pydantic import AllowInfNan, BaseModel, BeforeValidator, Strict, StringConstraints
from pydantic.fields import FieldInfo

from events.models import Contract, Event, date_text, exact_int

TAG_FIELD: Final = "event_type"

# Placing fields into a model without validating: a new instance, then pydantic's own slot descriptors (found on
# the model's bases) set its field dict, its fields-set, no extra and no private state. The decoder below and
# `operators.construct.Constructor` (derived events) both build this way.
new_object = object.__new__
_MODEL_BASE: Final = next(base for base in Event.__mro__ if "__pydantic_fields_set__" in vars(base))
set_dict = vars(_MODEL_BASE)["__dict__"].__set__
SLOT_DESCRIPTORS: Final = tuple(
    vars(_MODEL_BASE)[name] for name in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)
"""The model base's slot descriptors a built event sets besides its dict: its fields set, extra and private state."""
set_fields_set, set_extra, set_private = (descriptor.__set__ for descriptor in SLOT_DESCRIPTORS)
_asdict = msgspec.structs.asdict

# Validators that make pydantic as strict as msgspec already is (msgspec's JSON date is YYYY-MM-DD only; its
# Literal[1] refuses true and 1.0): nothing to carry over.
_STRICTNESS_VALIDATORS: Final = frozenset({date_text, exact_int})
# Pydantic's metadata flags whose meaning msgspec's JSON decoding has built in: no lax coercion at all, and
# no NaN or infinity (not JSON; an overflowing number is an error).
_BUILT_IN_FLAGS: Final = frozenset({"strict", "allow_inf_nan"})


class DateCheck(msgspec.Struct, frozen=True):
    """A bound msgspec cannot state on a type (a date range): checked on the decoded field."""

    field: str
    ge: Any = None
    le: Any = None


def _anchored(pattern: str) -> str:
    """Turn a pattern written for pydantic's Rust regex (`^...$`, `$` = end of text) into Python's `re`
    (`search`, where `$` also matches before a final newline): `\\A...\\Z`."""
    if pattern.startswith("^"):
        pattern = r"\A" + pattern[1:]
    if pattern.endswith("$") and not pattern.endswith(r"\$"):
        pattern = pattern[:-1] + r"\Z"
    return pattern


def _flatten(metadata: list[Any]) -> Iterator[Any]:
    for item in metadata:
        if isinstance(item, FieldInfo):
            yield from _flatten(item.metadata)
        elif isinstance(item, StringConstraints):
            yield item
        elif isinstance(item, at.GroupedMetadata):
            yield from _flatten(list(item))
        else:
            yield item


def _meta_of(
    metadata: list[Any], where: str, base: Any, *, patterns: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (msgspec Meta keyword arguments, bounds to check after decoding) for a field's metadata; string
    patterns are left out when `patterns` is false."""
    meta: dict[str, Any] = {}
    post: dict[str, Any] = {}
    for item in _flatten(metadata):
        if isinstance(item, Strict):
            continue
        if isinstance(item, AllowInfNan) and not item.allow_inf_nan:
            continue
        if isinstance(item, BeforeValidator) and item.func in _STRICTNESS_VALIDATORS:
            continue
        if isinstance(item, StringConstraints):
            unknown = {"strip_whitespace", "to_upper", "to_lower", "ascii_only"}
            if any(getattr(item, name) for name in unknown):
                raise TypeError(f"{where}: string transformations have no msgspec equivalent: {item!r}")
            if item.min_length:
                meta["min_length"] = item.min_length
            if item.max_length is not None:
                meta["max_length"] = item.max_length
            if item.pattern is not None and patterns:
                meta["pattern"] = _anchored(str(item.pattern))
            continue
        found = False
        for kind, name in ((at.Gt, "gt"), (at.Ge, "ge"), (at.Lt, "lt"), (at.Le, "le")):
            if isinstance(item, kind):
                (post if base is date else meta)[name] = getattr(item, name)
                found = True
        if isinstance(item, at.MinLen):
            meta["min_length"], found = item.min_length, True
        if isinstance(item, at.MaxLen):
            meta["max_length"], found = item.max_length, True
        if not found and type(item).__name__ == "_PydanticGeneralMetadata":
            flags = vars(item)
            if set(flags) - _BUILT_IN_FLAGS:
                raise TypeError(f"{where}: no msgspec equivalent for {flags!r}")
            found = True
        if not found:
            raise TypeError(f"{where}: no msgspec equivalent for constraint {item!r}")
    if post and set(post) - {"ge", "le"}:
        raise TypeError(f"{where}: only ge/le bounds on dates are checked, got {post!r}")
    return meta, post


def _constrained(tp: Any, meta: dict[str, Any]) -> Any:
    return Annotated[tp, msgspec.Meta(**meta)] if meta else tp


class _Generator:
    """Translate models to Structs once; nested models (structure legs) get untagged Structs of their own."""

    def __init__(self, *, patterns: bool) -> None:
        self.patterns = patterns
        self.cache: dict[tuple[type[BaseModel], bool], type[msgspec.Struct]] = {}

    def wire_type(self, annotation: Any, metadata: list[Any], where: str, *, field: bool = False) -> Any:
        """Return the msgspec type of an annotation; date bounds are allowed only on a field itself (`field`),
        where `Builder` checks them."""
        tp = annotation
        extra = list(metadata)
        while get_origin(tp) is Annotated:
            args = get_args(tp)
            tp, extra = args[0], [*args[1:], *extra]
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            members = [self.wire_type(arg, [], where) for arg in get_args(tp)]
            inner: Any = Union[tuple(members)]  # noqa: UP007 (a runtime union of computed members)
            meta, post = _meta_of(extra, where, tp, patterns=self.patterns)
            if post:
                raise TypeError(f"{where}: bounds on an optional date are not carried over")
            return _constrained(inner, meta)
        meta, post = _meta_of(extra, where, tp, patterns=self.patterns)
        if post and not field:
            raise TypeError(f"{where}: date bounds are checked per field, not inside {tp!r}")
        if origin is tuple:
            items = get_args(tp)
            if len(items) != 2 or items[1] is not Ellipsis:
                raise TypeError(f"{where}: only tuple[X, ...] is carried over, got {tp!r}")
            return _constrained(tuple[self.wire_type(items[0], [], where), ...], meta)  # type: ignore[misc]
        if origin is dict:
            key, value = get_args(tp)
            return _constrained(dict[self.wire_type(key, [], where), self.wire_type(value, [], where)], meta)  # type: ignore[misc]
        if origin is Literal or tp in (int, float, str, bool, date, type(None)):
            return _constrained(tp, meta)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return _constrained(self.struct(tp, tagged=False), meta)
        raise TypeError(f"{where}: no msgspec type for {tp!r}")

    def struct(self, model: type[BaseModel], *, tagged: bool) -> type[msgspec.Struct]:
        """Return the Struct of a model: fields in model order (without `event_type` when tagged)."""
        cached = self.cache.get((model, tagged))
        if cached is not None:
            return cached
        fields: list[tuple[str, Any, Any]] = []
        for name, info in model.model_fields.items():
            if tagged and name == TAG_FIELD:
                continue
            where = f"{model.__name__}.{name}"
            wire = self.wire_type(info.annotation, info.metadata, where, field=True)
            if info.default_factory is not None:
                default: Any = msgspec.field(default_factory=info.default_factory)  # type: ignore[arg-type]
            elif info.is_required():
                default = msgspec.NODEFAULT
            else:
                default = info.default
            fields.append((name, wire, default))
        options: dict[str, Any] = {"kw_only": True, "forbid_unknown_fields": True, "gc": False}
        if tagged:
            options |= {"tag_field": TAG_FIELD, "tag": model.model_fields[TAG_FIELD].default}
        name = f"{model.__name__}{'Tagged' if tagged else ''}{'' if self.patterns else 'Unpatterned'}Wire"
        struct = msgspec.defstruct(name, fields, **options)
        self.cache[(model, tagged)] = struct
        return struct


def date_checks(model: type[BaseModel]) -> tuple[DateCheck, ...]:
    """Return the date bounds of a model's fields, which the decoded values are checked against."""
    checks: list[DateCheck] = []
    for name, info in model.model_fields.items():
        _, post = _meta_of(info.metadata, f"{model.__name__}.{name}", info.annotation)
        if post:
            checks.append(DateCheck(name, post.get("ge"), post.get("le")))
    return tuple(checks)


def field_checks(model: type[BaseModel]) -> tuple[Callable[[Mapping[str, Any]], None], ...]:
    """Return the model's cross-field rules (`Contract.field_checks`), which the fast path runs on the decoded
    values. A model with validators of any other kind cannot be decoded here: they would be skipped."""
    decorators = model.__pydantic_decorators__
    others = set(decorators.model_validators) - {"_checked"}
    if others or decorators.field_validators or not issubclass(model, Contract):
        raise TypeError(f"{model.__name__}: only Contract.field_checks are replayed on the fast path ({others})")
    return model.field_checks


def builder(model: type[BaseModel], *, tagged: bool, nested: dict[str, Builder] | None = None) -> Builder:
    """Return a function that checks a decoded Struct's date bounds and cross-field rules, then places its
    fields into `model` without validating (raising ValueError when a check refuses)."""
    fields_set = set(model.model_fields)
    checks = field_checks(model)
    dates = date_checks(model)
    tag: dict[str, Any] | None = {TAG_FIELD: model.model_fields[TAG_FIELD].default} if tagged else None
    inner = nested or {}

    def build(wire: msgspec.Struct) -> Any:
        values = _asdict(wire)
        if tag is not None:
            values = tag | values
        if inner:
            for name, make in inner.items():
                values[name] = tuple(make(item) for item in values[name])
        for bound in dates:
            value = values[bound.field]
            if (bound.ge is not None and value < bound.ge) or (bound.le is not None and value > bound.le):
                raise ValueError(f"{bound.field} {value} is outside [{bound.ge}, {bound.le}]")
        for check in checks:
            check(values)
        event = new_object(model)
        set_dict(event, values)
        set_fields_set(event, fields_set)
        set_extra(event, None)
        set_private(event, None)
        return event

    return build


Builder = Callable[[msgspec.Struct], Any]


def _nested_models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Return the fields that hold a tuple of models (structure legs), by name."""
    out: dict[str, type[BaseModel]] = {}
    for name, info in model.model_fields.items():
        tp = info.annotation
        if get_origin(tp) is tuple:
            item = get_args(tp)[0]
            while get_origin(item) is Annotated:
                item = get_args(item)[0]
            if isinstance(item, type) and issubclass(item, BaseModel):
                out[name] = item
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            raise TypeError(f"{model.__name__}.{name}: a single nested model is not carried over")
    return out


# A string can hold a control character only if the JSON text has an escape (`\\n`, `\\u0000`, ...), a raw DEL
# or a C1 control (UTF-8 lead byte 0xC2): raw C0 bytes inside a string are malformed JSON. Payloads without any
# of these skip the per-string pattern checks, whose result is then known; the others get them.
_MAY_HOLD_CONTROL_TEXT: Final = re.compile(r"[\\\x7f-\x9f]")


def may_hold_control(data: bytes | str) -> bool:
    """Return whether a JSON text may decode to a string with a control character (see NO_CONTROL)."""
    if isinstance(data, str):
        return _MAY_HOLD_CONTROL_TEXT.search(data) is not None
    # `find` is cheaper than `in` for one byte; an all-ASCII text has no C1 control.
    return not data.isascii() or data.find(b"\\") >= 0 or data.find(b"\x7f") >= 0


class Codec:
    """Decode JSON of one model or a tagged union of models into validated pydantic events.

    `decode(data)` raises msgspec.DecodeError (ValidationError), ValueError, UnicodeEncodeError or (a tagged
    union skipping a deeply nested value) RecursionError for a refused payload.
    """

    __slots__ = ("decode", "models")

    def __init__(self, models: tuple[type[BaseModel], ...]) -> None:
        self.models = models
        builders: dict[type[msgspec.Struct], Builder] = {}
        exact = _decoder(_EXACT, models, builders).decode
        fast = _decoder(_UNPATTERNED, models, builders).decode
        self.decode: Callable[[bytes | str], Any]
        if len(builders) == 2:  # one model: one fast and one exact Struct, both built alike
            build = next(iter(builders.values()))

            def decode_one(data: bytes | str) -> Any:
                # may_hold_control, inlined for bytes: this is the hot path of every raw message.
                if type(data) is bytes and data.isascii() and data.find(b"\\") < 0 and data.find(b"\x7f") < 0:
                    return build(fast(data))
                return build(exact(data))

            self.decode = decode_one
        else:

            def decode_union(data: bytes | str) -> Any:
                if type(data) is bytes and data.isascii() and data.find(b"\\") < 0 and data.find(b"\x7f") < 0:
                    wire = fast(data)
                else:
                    wire = exact(data)
                return builders[type(wire)](wire)

            self.decode = decode_union


def _decoder(
    generator: _Generator, models: tuple[type[BaseModel], ...], builders: dict[type[msgspec.Struct], Builder]
) -> msgspec.json.Decoder[Any]:
    tagged = len(models) > 1
    structs: list[Any] = []
    for model in models:
        struct = generator.struct(model, tagged=tagged)
        nested = {name: builder(inner, tagged=False) for name, inner in _nested_models(model).items()}
        builders[struct] = builder(model, tagged=tagged, nested=nested)
        structs.append(struct)
    target: Any = structs[0] if len(structs) == 1 else Union[tuple(structs)]  # noqa: UP007
    return msgspec.json.Decoder(target)


_EXACT: Final = _Generator(patterns=True)
_UNPATTERNED: Final = _Generator(patterns=False)

_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\.\.\.\]")
_AT = " - at `$"


def error_field(message: str) -> str | None:
    """Return the dotted field path a msgspec error names (`Expected int >= 1 - at $.legs[0].size` ->
    `legs.0.size`; `Object missing required field `venue`` -> `venue`), or None."""
    path: list[str] = []
    text = message
    if _AT in text:
        text, where = text.split(_AT, 1)
        path = [m.group(1) or m.group(2) or "" for m in _PATH_PART.finditer(where.rstrip("`"))]
    named = re.search(r"(?:missing required|unknown) field `([^`]*)`", text)
    if named:
        path.append(named.group(1))
    return ".".join(p for p in path if p) or None


def _bare(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _members(tp: Any) -> list[Any]:
    """The types a value of annotation `tp` may have (unions flattened, annotations stripped)."""
    tp = _bare(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [member for arg in get_args(tp) for member in _members(arg)]
    return [tp]


def _text_fields(model: type[BaseModel]) -> tuple[tuple[str, ...], bool]:
    """Return the fields of `model` that hold text (a str or a tuple of str, maybe optional), and whether every
    text the model can hold is in them (no dict keys, no nested models; literals are fixed text)."""
    names: list[str] = []
    simple = True
    for name, info in model.model_fields.items():
        text = False
        for member in _members(info.annotation):
            if member in (int, float, bool, date, type(None)) or get_origin(member) is Literal:
                continue
            items = get_args(member)
            if member is str or (
                get_origin(member) is tuple and len(items) == 2 and items[1] is Ellipsis and _bare(items[0]) is str
            ):
                text = True
            else:
                simple = False
        if text:
            names.append(name)
    return tuple(names), simple


class Checked:
    """Build one model from Python values (a connector's parsed fields) with every check its validation makes,
    through the same Structs and rules as the JSON decoder, at a fraction of pydantic's cost.

    `make(values)` raises msgspec.ValidationError or ValueError for values the contract refuses. When every text
    value is printable (so holds no control character), the per-string patterns are skipped, their result being
    known (as `Codec` skips them for payloads that cannot hold one); otherwise they run and decide.
    """

    __slots__ = ("_build", "_exact", "_fast", "_strings", "_tuples")

    def __init__(self, model: type[BaseModel]) -> None:
        texts, simple = _text_fields(model)
        if _nested_models(model) or not simple:
            raise TypeError(f"{model.__name__}: only models of plain fields are built by Checked")
        tuples = {
            name for name in texts if any(get_origin(m) is tuple for m in _members(model.model_fields[name].annotation))
        }
        self._strings = tuple(name for name in texts if name not in tuples)
        self._tuples = tuple(name for name in texts if name in tuples)
        self._exact = _EXACT.struct(model, tagged=False)
        self._fast = _UNPATTERNED.struct(model, tagged=False)
        self._build = builder(model, tagged=False)

    def make(self, values: dict[str, Any]) -> Any:
        """Return the event of `values` (field name -> value; fields left out take their defaults)."""
        return self._build(msgspec.convert(values, self._fast if self._printable(values) else self._exact))

    def _printable(self, values: dict[str, Any]) -> bool:
        # `join` refuses anything but text (a wrong type, left to the exact Struct to name); absent and None
        # values hold no text.
        try:
            text = "".join([value for value in map(values.get, self._strings) if value is not None])
            for name in self._tuples:
                items = values.get(name)
                if items is not None:
                    if type(items) is not tuple:
                        return False
                    text += "".join(items)
        except TypeError:
            return False
        return text.isprintable()
