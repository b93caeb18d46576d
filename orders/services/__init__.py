"""Writes of orders: placing (placement.py), the fulfilment lifecycle (fulfilment.py) and
standing orders (standing.py)."""
