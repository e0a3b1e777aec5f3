"""Importing catalogs: reading files, validating rows, writing courses, the upload workflow."""
