"""Traffic by destination: pricing the platform's hourly aggregates, and what the period's spend is made of."""
