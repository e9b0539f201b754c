-- Generated from events/models.py by `python -m connectors.clickhouse.schema`: do not edit.
-- Portable: ClickHouse 18.16 and current releases (chDB). Apply with
--   clickhouse-client --multiquery < deploy/clickhouse/001_tables.sql

CREATE DATABASE IF NOT EXISTS `flowtape`;

CREATE TABLE IF NOT EXISTS `flowtape`.`options_prints`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `symbol` String,
    `underlying` String,
    `root` String,
    `expiry` Date,
    `right` String,
    `strike_e9` Int64,
    `provider` String,
    `ts_recv` Nullable(Int64),
    `sequence` Int64,
    `multiplier` Int64,
    `venue` String,
    `venue_id` String,
    `price_e9` Int64,
    `size_contracts` Int64,
    `conditions` Array(String),
    `raw_conditions` String,
    `nbbo_bid_e9` Nullable(Int64),
    `nbbo_ask_e9` Nullable(Int64),
    `nbbo_bid_size_contracts` Nullable(Int64),
    `nbbo_ask_size_contracts` Nullable(Int64),
    `nbbo_ts` Nullable(Int64),
    `underlying_e9` Nullable(Int64),
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`options_nbbo`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `provider` String,
    `ts_recv` Nullable(Int64),
    `sequence` Int64,
    `symbol` String,
    `underlying` String,
    `venue` String,
    `bid_e9` Int64,
    `ask_e9` Int64,
    `bid_size_contracts` Int64,
    `ask_size_contracts` Int64,
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`equities_prints`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `provider` String,
    `ts_recv` Nullable(Int64),
    `sequence` Int64,
    `symbol` String,
    `venue` String,
    `venue_id` String,
    `off_exchange` UInt8,
    `price_e9` Int64,
    `size_shares` Int64,
    `conditions` Array(String),
    `raw_conditions` String,
    `bid_e9` Nullable(Int64),
    `ask_e9` Nullable(Int64),
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`equities_quotes`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `provider` String,
    `ts_recv` Nullable(Int64),
    `sequence` Int64,
    `symbol` String,
    `venue` String,
    `bid_e9` Int64,
    `ask_e9` Int64,
    `bid_size_shares` Int64,
    `ask_size_shares` Int64,
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`refdata_options_definitions`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `symbol` String,
    `underlying` String,
    `root` String,
    `expiry` Date,
    `right` String,
    `strike_e9` Int64,
    `provider` String,
    `ts_recv` Nullable(Int64),
    `multiplier` Int64,
    `instrument_id` Nullable(Int64),
    `venue` String,
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`refdata_open_interest`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `provider` String,
    `ts_recv` Nullable(Int64),
    `symbol` String,
    `underlying` String,
    `open_interest_contracts` Int64,
    `ts_ref` Nullable(Int64),
    `venue` String,
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`refdata_volume_baselines`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `scope` String,
    `subject` String,
    `underlying` String,
    `as_of` Date,
    `sessions` Int64,
    `day_volume_mean` Float64,
    `bucket_volume_mean` String,
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`flow_packets`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `symbol` String,
    `underlying` String,
    `root` String,
    `expiry` Date,
    `right` String,
    `strike_e9` Int64,
    `multiplier` Int64,
    `kind` String,
    `side` String,
    `ts_first` Int64,
    `ts_last` Int64,
    `span_ns` Int64,
    `print_count` Int64,
    `venue_count` Int64,
    `venues` Array(String),
    `size_contracts` Int64,
    `premium_cents` Int64,
    `vwap_e9` Int64,
    `first_price_e9` Int64,
    `last_price_e9` Int64,
    `min_price_e9` Int64,
    `max_price_e9` Int64,
    `price_path` String,
    `placement_counts` String,
    `placement_sizes` String,
    `buy_size_contracts` Int64,
    `sell_size_contracts` Int64,
    `nbbo_coverage` Float64,
    `stale_ratio` Float64,
    `bid_e9` Nullable(Int64),
    `ask_e9` Nullable(Int64),
    `bid_size_contracts` Nullable(Int64),
    `ask_size_contracts` Nullable(Int64),
    `touch_size_ratio` Nullable(Float64),
    `conditions` Array(String),
    `complex_prints` Int64,
    `tick_test_prints` Int64,
    `late_prints` Int64,
    `underlying_e9` Nullable(Int64),
    `underlying_source` Nullable(String),
    `underlying_age_ms` Nullable(Int64),
    `underlying_strike_e9` Nullable(Int64),
    `print_ids` Array(String),
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`flow_hits`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `underlying` String,
    `symbol` String,
    `subject_type` String,
    `subject_id` String,
    `classifier` String,
    `direction` String,
    `confidence` Float64,
    `rule` String,
    `metrics` String,
    `explanations` Array(String),
    `evidence_ids` Array(String),
    `premium_cents` Int64,
    `size_contracts` Int64,
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`flow_alerts`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `revision` Int64,
    `ts_first` Int64,
    `underlying` String,
    `symbol` String,
    `subject_type` String,
    `subject_id` String,
    `kind` String,
    `side` String,
    `direction` String,
    `classifiers` Array(String),
    `score` Int64,
    `severity` String,
    `confidence` Float64,
    `premium_cents` Int64,
    `size_contracts` Int64,
    `subject_count` Int64,
    `print_count` Int64,
    `hit_count` Int64,
    `price_e9` Int64,
    `bid_e9` Nullable(Int64),
    `ask_e9` Nullable(Int64),
    `headline` String,
    `explanations` Array(String),
    `hit_ids` Array(String),
    `evidence_ids` Array(String),
    `subject_ids` Array(String),
    `placement_sizes` String,
    `day` Date
)
ENGINE = ReplacingMergeTree(`revision`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`flow_structures`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `underlying` String,
    `structure_type` String,
    `flagged` UInt8,
    `rule` String,
    `metrics` String,
    `ts_first` Int64,
    `ts_last` Int64,
    `leg_count` Int64,
    `legs` String,
    `leg_ids` Array(String),
    `size_contracts` Int64,
    `gross_premium_cents` Int64,
    `net_premium_cents` Nullable(Int64),
    `net_premium` String,
    `print_ids` Array(String),
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`flow_context`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `underlying` String,
    `window_label` String,
    `window_ns` Int64,
    `packet_count` Int64,
    `call_volume_contracts` Int64,
    `put_volume_contracts` Int64,
    `call_premium_cents` Int64,
    `put_premium_cents` Int64,
    `put_call_volume_ratio` Nullable(Float64),
    `put_call_premium_ratio` Nullable(Float64),
    `buy_premium_cents` Int64,
    `sell_premium_cents` Int64,
    `net_premium_cents` Int64,
    `bullish_premium_cents` Int64,
    `bearish_premium_cents` Int64,
    `complex_premium_cents` Int64,
    `sweep_count` Int64,
    `block_count` Int64,
    `at_touch_contracts` Int64,
    `quoted_contracts` Int64,
    `sweep_contracts` Int64,
    `large_premium_cents` Int64,
    `sentiment` String,
    `sentiment_strength` Float64,
    `sentiment_formula` String,
    `aggressiveness` Float64,
    `aggressiveness_formula` String,
    `institutional_score` Float64,
    `institutional_formula` String,
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`equities_trades`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `print_id` String,
    `sequence` Int64,
    `symbol` String,
    `underlying` String,
    `venue` String,
    `off_exchange` UInt8,
    `price_e9` Int64,
    `size_shares` Int64,
    `notional_cents` Int64,
    `conditions` Array(String),
    `placement` String,
    `side` String,
    `tick_test` UInt8,
    `bid_e9` Nullable(Int64),
    `ask_e9` Nullable(Int64),
    `bid_size_shares` Nullable(Int64),
    `ask_size_shares` Nullable(Int64),
    `quote_age_ns` Nullable(Int64),
    `stale` UInt8,
    `round_lot_shares` Int64,
    `size_eligible` UInt8,
    `last_sale_eligible` UInt8,
    `excluded_reasons` Array(String),
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`dark_inferences`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `underlying` String,
    `kind` String,
    `direction` String,
    `confidence` Float64,
    `rule` String,
    `metrics` String,
    `explanations` Array(String),
    `evidence_ids` Array(String),
    `ts_first` Int64,
    `ts_last` Int64,
    `print_count` Int64,
    `size_shares` Int64,
    `notional_cents` Int64,
    `vwap_e9` Int64,
    `adv_shares` Nullable(Int64),
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`dark_levels`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `revision` Int64,
    `underlying` String,
    `session_date` Date,
    `price_e9` Int64,
    `tick_cents` Int64,
    `size_shares` Int64,
    `notional_cents` Int64,
    `print_count` Int64,
    `rank` Nullable(Int64),
    `session_notional_cents` Int64,
    `notional_share` Float64,
    `ts_first` Int64,
    `ts_last` Int64,
    `day` Date
)
ENGINE = ReplacingMergeTree(`revision`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`equities_candles`
(
    `event_type` String,
    `schema_version` Int64,
    `id` String,
    `ts_event` Int64,
    `underlying` String,
    `interval` String,
    `window_start_ns` Int64,
    `window_end_ns` Int64,
    `open_e9` Nullable(Int64),
    `high_e9` Nullable(Int64),
    `low_e9` Nullable(Int64),
    `close_e9` Nullable(Int64),
    `volume_shares` Int64,
    `notional_cents` Int64,
    `trade_count` Int64,
    `last_sale_trades` Int64,
    `off_exchange_volume_shares` Int64,
    `off_exchange_trades` Int64,
    `late_prints` Int64,
    `late_volume_shares` Int64,
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_event`)
PARTITION BY `day`
ORDER BY `id`;

CREATE TABLE IF NOT EXISTS `flowtape`.`dead_letters`
(
    `id` String,
    `ts_recv` Int64,
    `event_type` String,
    `schema_version` Int64,
    `topic` String,
    `partition` Nullable(Int64),
    `offset` Nullable(Int64),
    `key` Nullable(String),
    `error` String,
    `field` Nullable(String),
    `reason` String,
    `payload` String,
    `day` Date
)
ENGINE = ReplacingMergeTree(`ts_recv`)
PARTITION BY `day`
ORDER BY `id`;
