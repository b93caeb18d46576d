# Buyer organisations, orders, fulfilments and events arrive with the bulk-orders issue.
# Until then a buyer is a user with role "buyer" (accounts.User.Role.BUYER).
