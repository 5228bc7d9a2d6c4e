"""Experiments as a user starts them: a config from a preset and flags, validation, experts,
`ticketlab.run`, `find_tickets` around a training function of your own, the selected-inputs study
and trackers that mirror levels to TensorBoard or W&B."""
