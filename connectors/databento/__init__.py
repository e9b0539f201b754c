"""Databento: DBN file replay (`files`) and pure record parsing (`parse`)."""
