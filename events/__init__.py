"""The contracts: one pydantic model per topic payload, topic names, id rules and units."""
