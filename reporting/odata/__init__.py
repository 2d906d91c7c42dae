"""A read-only OData v4 feed of PRaP data for Power BI and Excel."""
