"""The browser UI (grows with the UI issue); for now a landing page with the endpoints."""
