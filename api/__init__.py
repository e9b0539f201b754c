"""The FastAPI service: REST queries over the store (ClickHouse or chDB), one router per resource."""
