"""The service's FastAPI application (`app.main:app`)."""
