"""Every write of payments: collecting (bank transfers, refunds), settlement, payouts and the
overdue flag. Lock order, as everywhere: order → fulfilment → payment → (bank transfer) →
listing stock, each by primary key."""
