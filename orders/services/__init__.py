"""Writes of orders: placing (placement.py, with the policies in policies.py), the fulfilment
lifecycle (fulfilment.py), standing orders (standing.py) and the job placing them
(standing_runs.py), and events beside the lifecycle that other apps record (events.py)."""
