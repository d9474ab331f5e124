"""Domain rules: plain functions over the models, taking `*, session` (and a clock when time
matters). No channel, no catalog rendering, no telegram here."""
