"""Field placements: a trainee at a partner that hosts practice, for a period, with a named site supervisor."""
