"""Campaign pre-flight: `/rates campaign`, its modal, the priced answer and Share."""
