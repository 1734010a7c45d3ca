"""PAKN (phản ánh, kiến nghị): citizens send and track, staff handle against deadlines."""
