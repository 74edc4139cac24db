"""Sales KPI report kit."""
