"""Reviewing courses: the queue, staff decisions and the rules they are checked against."""
