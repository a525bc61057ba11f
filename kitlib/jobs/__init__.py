"""Background work: ``queue`` is the outbox services write to in their transactions (models
only); ``worker`` claims jobs and runs one handler per kind (it sits above ``services``).
"""
