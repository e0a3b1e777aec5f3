"""Services: functions taking a Session that flush but never commit (the caller commits once)."""
