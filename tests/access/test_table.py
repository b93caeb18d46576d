"""Who may do what, in one table: every role × every route of the API × every method, with
the status each gets. Read a row as "this request, by each of these people, answers ...".

Roles (columns), all about one small marketplace (tests/access/world.py):
  anon       nobody signed in
  staff      platform staff
  mgr        a manager of the cooperative the row belongs to
  o_mgr      a manager of another cooperative
  purch      a purchaser of the buyer organisation the row belongs to
  appr       an approver of that organisation
  forgn      a purchaser of another buyer organisation
  partner    the organisation's partner system (Api-Key)

Each request sends an empty JSON body, so a write the role may make answers 400 (the body
is incomplete) or 200/201 (nothing was required), one it may not make 401/403, a row it may
not see 404, a method the route does not have 405 (after the role passed the door: a role
refused at the door gets 401/403 first), and a lifecycle move the row's state forbids 409.
The order is placed (no approval needed) and its one fulfilment placed; who may make which
move from each state is tests/orders/test_lifecycle.py's table. Every request is rolled
back, so each starts from the same world.

A route of the URL conf that this table does not list fails the test: a new endpoint must
be added here, with who may use it.
"""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.access.world import ROLES, build_world

pytestmark = pytest.mark.django_db

API = "/api/v1/"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

# Paths are under /api/v1/; {row} is the world's row of that kind.
TABLE = """
# path                              method anon  staff mgr   o_mgr purch appr  forgn partner
auth/token/                         GET    405   405   405   405   405   405   405   405
auth/token/                         POST   400   400   400   400   400   400   400   400
auth/token/                         PUT    405   405   405   405   405   405   405   405
auth/token/                         PATCH  405   405   405   405   405   405   405   405
auth/token/                         DELETE 405   405   405   405   405   405   405   405

auth/logout/                        GET    401   405   405   405   405   405   405   401
auth/logout/                        POST   401   204   204   204   204   204   204   401
auth/logout/                        PUT    401   405   405   405   405   405   405   401
auth/logout/                        PATCH  401   405   405   405   405   405   405   401
auth/logout/                        DELETE 401   405   405   405   405   405   405   401

auth/me/                            GET    401   200   200   200   200   200   200   200
auth/me/                            POST   401   405   405   405   405   405   405   405
auth/me/                            PUT    401   405   405   405   405   405   405   405
auth/me/                            PATCH  401   405   405   405   405   405   405   405
auth/me/                            DELETE 401   405   405   405   405   405   405   405

cooperatives/                       GET    401   200   200   200   200   200   200   200
cooperatives/                       POST   401   400   403   403   403   403   403   403
cooperatives/                       PUT    401   405   403   403   403   403   403   403
cooperatives/                       PATCH  401   405   405   405   403   403   403   403
cooperatives/                       DELETE 401   405   403   403   403   403   403   403

cooperatives/{cooperative}/         GET    401   200   200   200   200   200   200   200
cooperatives/{cooperative}/         POST   401   405   403   403   403   403   403   403
cooperatives/{cooperative}/         PUT    401   400   403   403   403   403   403   403
cooperatives/{cooperative}/         PATCH  401   200   200   403   403   403   403   403
cooperatives/{cooperative}/         DELETE 401   405   403   403   403   403   403   403

households/                         GET    401   200   200   200   403   403   403   403
households/                         POST   401   400   400   400   403   403   403   403
households/                         PUT    401   405   405   405   403   403   403   403
households/                         PATCH  401   405   405   405   403   403   403   403
households/                         DELETE 401   405   405   405   403   403   403   403

households/{household}/             GET    401   200   200   404   403   403   403   403
households/{household}/             POST   401   405   405   405   403   403   403   403
households/{household}/             PUT    401   400   400   404   403   403   403   403
households/{household}/             PATCH  401   200   200   404   403   403   403   403
households/{household}/             DELETE 401   409   409   404   403   403   403   403

categories/                         GET    401   200   200   200   200   200   200   200
categories/                         POST   401   400   403   403   403   403   403   403
categories/                         PUT    401   405   403   403   403   403   403   403
categories/                         PATCH  401   405   403   403   403   403   403   403
categories/                         DELETE 401   405   403   403   403   403   403   403

categories/{category}/              GET    401   200   200   200   200   200   200   200
categories/{category}/              POST   401   405   403   403   403   403   403   403
categories/{category}/              PUT    401   400   403   403   403   403   403   403
categories/{category}/              PATCH  401   200   403   403   403   403   403   403
categories/{category}/              DELETE 401   405   403   403   403   403   403   403

certifications/                     GET    401   200   200   200   200   200   200   200
certifications/                     POST   401   405   403   403   403   403   403   403
certifications/                     PUT    401   405   403   403   403   403   403   403
certifications/                     PATCH  401   405   403   403   403   403   403   403
certifications/                     DELETE 401   405   403   403   403   403   403   403

certifications/{certification}/     GET    401   200   200   200   200   200   200   200
certifications/{certification}/     POST   401   405   403   403   403   403   403   403
certifications/{certification}/     PUT    401   405   403   403   403   403   403   403
certifications/{certification}/     PATCH  401   405   403   403   403   403   403   403
certifications/{certification}/     DELETE 401   405   403   403   403   403   403   403

products/                           GET    401   200   200   200   200   200   200   200
products/                           POST   401   400   403   403   403   403   403   403
products/                           PUT    401   405   403   403   403   403   403   403
products/                           PATCH  401   405   403   403   403   403   403   403
products/                           DELETE 401   405   403   403   403   403   403   403

products/{product}/                 GET    401   200   200   200   200   200   200   200
products/{product}/                 POST   401   405   403   403   403   403   403   403
products/{product}/                 PUT    401   400   403   403   403   403   403   403
products/{product}/                 PATCH  401   200   403   403   403   403   403   403
products/{product}/                 DELETE 401   405   403   403   403   403   403   403

listings/                           GET    401   200   200   200   200   200   200   200
listings/                           POST   401   400   400   400   403   403   403   403
listings/                           PUT    401   405   405   405   403   403   403   403
listings/                           PATCH  401   405   405   405   403   403   403   403
listings/                           DELETE 401   405   405   405   403   403   403   403

listings/{listing}/                 GET    401   200   200   200   200   200   200   200
listings/{listing}/                 POST   401   405   405   405   403   403   403   403
listings/{listing}/                 PUT    401   400   400   403   403   403   403   403
listings/{listing}/                 PATCH  401   200   200   403   403   403   403   403
listings/{listing}/                 DELETE 401   405   405   405   403   403   403   403

lots/                               GET    401   200   200   200   200   200   200   200
lots/                               POST   401   400   400   400   403   403   403   403
lots/                               PUT    401   405   405   405   403   403   403   403
lots/                               PATCH  401   405   405   405   403   403   403   403
lots/                               DELETE 401   405   405   405   403   403   403   403

lots/{lot}/                         GET    401   200   200   200   200   200   200   200
lots/{lot}/                         POST   401   405   405   405   403   403   403   403
lots/{lot}/                         PUT    401   400   400   403   403   403   403   403
lots/{lot}/                         PATCH  401   200   200   403   403   403   403   403
lots/{lot}/                         DELETE 401   405   405   405   403   403   403   403

negotiated-prices/                  GET    401   200   200   200   200   200   200   200
negotiated-prices/                  POST   401   400   400   400   403   403   403   403
negotiated-prices/                  PUT    401   405   405   405   403   403   403   403
negotiated-prices/                  PATCH  401   405   405   405   403   403   403   403
negotiated-prices/                  DELETE 401   405   405   405   403   403   403   403

negotiated-prices/{negotiated}/     GET    401   200   200   404   200   200   404   200
negotiated-prices/{negotiated}/     POST   401   405   405   405   403   403   403   403
negotiated-prices/{negotiated}/     PUT    401   405   405   405   403   403   403   403
negotiated-prices/{negotiated}/     PATCH  401   405   405   405   403   403   403   403
negotiated-prices/{negotiated}/     DELETE 401   204   204   404   403   403   403   403

buyers/                             GET    401   200   200   200   200   200   200   200
buyers/                             POST   401   400   403   403   403   403   403   403
buyers/                             PUT    401   405   403   403   403   403   403   403
buyers/                             PATCH  401   405   403   403   403   403   403   403
buyers/                             DELETE 401   405   403   403   403   403   403   403

buyers/{organisation}/              GET    401   200   404   404   200   200   404   200
buyers/{organisation}/              POST   401   405   403   403   403   403   403   403
buyers/{organisation}/              PUT    401   400   403   403   403   403   403   403
buyers/{organisation}/              PATCH  401   200   403   403   403   403   403   403
buyers/{organisation}/              DELETE 401   405   403   403   403   403   403   403

stores/                             GET    401   200   200   200   200   200   200   200
stores/                             POST   401   400   403   403   403   400   403   403
stores/                             PUT    401   405   403   403   403   405   403   403
stores/                             PATCH  401   405   403   403   403   405   403   403
stores/                             DELETE 401   405   403   403   403   405   403   403

stores/{store}/                     GET    401   200   404   404   200   200   404   200
stores/{store}/                     POST   401   405   403   403   403   405   403   403
stores/{store}/                     PUT    401   400   403   403   403   400   403   403
stores/{store}/                     PATCH  401   200   403   403   403   200   403   403
stores/{store}/                     DELETE 401   405   403   403   403   405   403   403

orders/                             GET    401   200   403   403   200   200   200   200
orders/                             POST   401   400   403   403   400   400   400   400
orders/                             PUT    401   405   403   403   405   405   405   405
orders/                             PATCH  401   405   403   403   405   405   405   405
orders/                             DELETE 401   405   403   403   405   405   405   405

orders/csv/                         GET    401   200   403   403   200   200   200   200
orders/csv/                         POST   401   405   403   403   405   405   405   405
orders/csv/                         PUT    401   405   403   403   405   405   405   405
orders/csv/                         PATCH  401   405   403   403   405   405   405   405
orders/csv/                         DELETE 401   405   403   403   405   405   405   405

orders/xlsx/                        GET    401   200   403   403   200   200   200   200
orders/xlsx/                        POST   401   405   403   403   405   405   405   405
orders/xlsx/                        PUT    401   405   403   403   405   405   405   405
orders/xlsx/                        PATCH  401   405   403   403   405   405   405   405
orders/xlsx/                        DELETE 401   405   403   403   405   405   405   405

orders/{order}/                     GET    401   200   403   403   200   200   404   200
orders/{order}/                     POST   401   405   403   403   405   405   405   405
orders/{order}/                     PUT    401   405   403   403   405   405   405   405
orders/{order}/                     PATCH  401   405   403   403   405   405   405   405
orders/{order}/                     DELETE 401   405   403   403   405   405   405   405

orders/{order}/cancel/              GET    401   405   403   403   405   405   405   405
orders/{order}/cancel/              POST   401   200   403   403   200   200   404   200
orders/{order}/cancel/              PUT    401   405   403   403   405   405   405   405
orders/{order}/cancel/              PATCH  401   405   403   403   405   405   405   405
orders/{order}/cancel/              DELETE 401   405   403   403   405   405   405   405

orders/{order}/approve/             GET    401   405   403   403   405   405   405   405
orders/{order}/approve/             POST   401   409   403   403   409   409   404   409
orders/{order}/approve/             PUT    401   405   403   403   405   405   405   405
orders/{order}/approve/             PATCH  401   405   403   403   405   405   405   405
orders/{order}/approve/             DELETE 401   405   403   403   405   405   405   405

orders/{order}/reorder/             GET    401   405   403   403   405   405   405   405
orders/{order}/reorder/             POST   401   403   403   403   201   201   404   201
orders/{order}/reorder/             PUT    401   405   403   403   405   405   405   405
orders/{order}/reorder/             PATCH  401   405   403   403   405   405   405   405
orders/{order}/reorder/             DELETE 401   405   403   403   405   405   405   405

orders/{order}/events/              GET    401   200   403   403   200   200   404   200
orders/{order}/events/              POST   401   405   403   403   405   405   405   405
orders/{order}/events/              PUT    401   405   403   403   405   405   405   405
orders/{order}/events/              PATCH  401   405   403   403   405   405   405   405
orders/{order}/events/              DELETE 401   405   403   403   405   405   405   405

fulfilments/                        GET    401   200   200   200   200   200   200   200
fulfilments/                        POST   401   405   405   405   405   405   405   405
fulfilments/                        PUT    401   405   405   405   405   405   405   405
fulfilments/                        PATCH  401   405   405   405   405   405   405   405
fulfilments/                        DELETE 401   405   405   405   405   405   405   405

fulfilments/{fulfilment}/           GET    401   200   200   404   200   200   404   200
fulfilments/{fulfilment}/           POST   401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/           PUT    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/           PATCH  401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/           DELETE 401   405   405   405   405   405   405   405

fulfilments/{fulfilment}/confirm/   GET    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/confirm/   POST   401   200   200   404   409   409   404   409
fulfilments/{fulfilment}/confirm/   PUT    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/confirm/   PATCH  401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/confirm/   DELETE 401   405   405   405   405   405   405   405

fulfilments/{fulfilment}/reject/    GET    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/reject/    POST   401   400   400   404   400   400   404   400
fulfilments/{fulfilment}/reject/    PUT    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/reject/    PATCH  401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/reject/    DELETE 401   405   405   405   405   405   405   405

fulfilments/{fulfilment}/pack/      GET    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/pack/      POST   401   409   409   404   409   409   404   409
fulfilments/{fulfilment}/pack/      PUT    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/pack/      PATCH  401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/pack/      DELETE 401   405   405   405   405   405   405   405

fulfilments/{fulfilment}/ship/      GET    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/ship/      POST   401   409   409   404   409   409   404   409
fulfilments/{fulfilment}/ship/      PUT    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/ship/      PATCH  401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/ship/      DELETE 401   405   405   405   405   405   405   405

fulfilments/{fulfilment}/deliver/   GET    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/deliver/   POST   401   409   409   404   409   409   404   409
fulfilments/{fulfilment}/deliver/   PUT    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/deliver/   PATCH  401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/deliver/   DELETE 401   405   405   405   405   405   405   405

fulfilments/{fulfilment}/complete/  GET    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/complete/  POST   401   409   409   404   409   409   404   409
fulfilments/{fulfilment}/complete/  PUT    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/complete/  PATCH  401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/complete/  DELETE 401   405   405   405   405   405   405   405

fulfilments/{fulfilment}/cancel/    GET    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/cancel/    POST   401   200   409   404   200   200   404   200
fulfilments/{fulfilment}/cancel/    PUT    401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/cancel/    PATCH  401   405   405   405   405   405   405   405
fulfilments/{fulfilment}/cancel/    DELETE 401   405   405   405   405   405   405   405

purchase-imports/                   GET    401   200   403   403   200   200   200   200
purchase-imports/                   POST   401   415   403   403   415   415   415   415
purchase-imports/                   PUT    401   405   403   403   405   405   405   405
purchase-imports/                   PATCH  401   405   403   403   405   405   405   405
purchase-imports/                   DELETE 401   405   403   403   405   405   405   405

purchase-imports/{purchase_import}/ GET    401   200   403   403   200   200   404   200
purchase-imports/{purchase_import}/ POST   401   405   403   403   405   405   405   405
purchase-imports/{purchase_import}/ PUT    401   405   403   403   405   405   405   405
purchase-imports/{purchase_import}/ PATCH  401   405   403   403   405   405   405   405
purchase-imports/{purchase_import}/ DELETE 401   405   403   403   405   405   405   405

purchase-imports/{purchase_import}/place/ GET    401   405   403   403   405   405   405   405
purchase-imports/{purchase_import}/place/ POST   401   403   403   403   200   200   404   200
purchase-imports/{purchase_import}/place/ PUT    401   405   403   403   405   405   405   405
purchase-imports/{purchase_import}/place/ PATCH  401   405   403   403   405   405   405   405
purchase-imports/{purchase_import}/place/ DELETE 401   405   403   403   405   405   405   405

standing-orders/                    GET    401   200   403   403   200   200   200   200
standing-orders/                    POST   401   400   403   403   400   400   400   400
standing-orders/                    PUT    401   405   403   403   405   405   405   405
standing-orders/                    PATCH  401   405   403   403   405   405   405   405
standing-orders/                    DELETE 401   405   403   403   405   405   405   405

standing-orders/{standing}/         GET    401   200   403   403   200   200   404   200
standing-orders/{standing}/         POST   401   405   403   403   405   405   405   405
standing-orders/{standing}/         PUT    401   400   403   403   400   400   404   400
standing-orders/{standing}/         PATCH  401   200   403   403   200   200   404   200
standing-orders/{standing}/         DELETE 401   200   403   403   200   200   404   200

bank-transfers/                     GET    401   200   403   403   200   200   200   200
bank-transfers/                     POST   401   400   403   403   403   403   403   400
bank-transfers/                     PUT    401   405   403   403   403   403   403   405
bank-transfers/                     PATCH  401   405   403   403   403   403   403   405
bank-transfers/                     DELETE 401   405   403   403   403   403   403   405

bank-transfers/{bank_transfer}/     GET    401   200   403   403   200   200   404   200
bank-transfers/{bank_transfer}/     POST   401   405   403   403   403   403   403   405
bank-transfers/{bank_transfer}/     PUT    401   405   403   403   403   403   403   405
bank-transfers/{bank_transfer}/     PATCH  401   405   403   403   403   403   403   405
bank-transfers/{bank_transfer}/     DELETE 401   405   403   403   403   403   403   405

bank-transfers/{bank_transfer}/allocate/ GET    401   405   403   403   405   405   405   405
bank-transfers/{bank_transfer}/allocate/ POST   401   400   403   403   403   403   403   400
bank-transfers/{bank_transfer}/allocate/ PUT    401   405   403   403   403   403   403   405
bank-transfers/{bank_transfer}/allocate/ PATCH  401   405   403   403   403   403   403   405
bank-transfers/{bank_transfer}/allocate/ DELETE 401   405   403   403   403   403   403   405

payments/                           GET    401   200   403   403   200   200   200   200
payments/                           POST   401   403   403   403   400   400   400   400
payments/                           PUT    401   405   403   403   405   405   405   405
payments/                           PATCH  401   405   403   403   405   405   405   405
payments/                           DELETE 401   405   403   403   405   405   405   405

payments/{payment}/                 GET    401   200   403   403   200   200   404   200
payments/{payment}/                 POST   401   405   403   403   405   405   405   405
payments/{payment}/                 PUT    401   405   403   403   405   405   405   405
payments/{payment}/                 PATCH  401   405   403   403   405   405   405   405
payments/{payment}/                 DELETE 401   405   403   403   405   405   405   405

payments/stripe/webhook/            GET    405   405   405   405   405   405   405   405
payments/stripe/webhook/            POST   503   503   503   503   503   503   503   503
payments/stripe/webhook/            PUT    405   405   405   405   405   405   405   405
payments/stripe/webhook/            PATCH  405   405   405   405   405   405   405   405
payments/stripe/webhook/            DELETE 405   405   405   405   405   405   405   405

refunds/                            GET    401   200   403   403   200   200   200   200
refunds/                            POST   401   400   403   403   403   403   403   403
refunds/                            PUT    401   405   403   403   405   405   405   405
refunds/                            PATCH  401   405   403   403   405   405   405   405
refunds/                            DELETE 401   405   403   403   405   405   405   405

refunds/{refund}/                   GET    401   200   403   403   200   200   404   200
refunds/{refund}/                   POST   401   405   403   403   405   405   405   405
refunds/{refund}/                   PUT    401   405   403   403   405   405   405   405
refunds/{refund}/                   PATCH  401   405   403   403   405   405   405   405
refunds/{refund}/                   DELETE 401   405   403   403   405   405   405   405

statements/                         GET    401   200   200   200   403   403   403   403
statements/                         POST   401   405   405   405   403   403   403   403
statements/                         PUT    401   405   405   405   403   403   403   403
statements/                         PATCH  401   405   405   405   403   403   403   403
statements/                         DELETE 401   405   405   405   403   403   403   403

statements/{statement}/             GET    401   200   200   404   403   403   403   403
statements/{statement}/             POST   401   405   405   405   403   403   403   403
statements/{statement}/             PUT    401   405   405   405   403   403   403   403
statements/{statement}/             PATCH  401   405   405   405   403   403   403   403
statements/{statement}/             DELETE 401   405   405   405   403   403   403   403

statements/{statement}/csv/         GET    401   200   200   404   403   403   403   403
statements/{statement}/csv/         POST   401   405   405   405   403   403   403   403
statements/{statement}/csv/         PUT    401   405   405   405   403   403   403   403
statements/{statement}/csv/         PATCH  401   405   405   405   403   403   403   403
statements/{statement}/csv/         DELETE 401   405   405   405   403   403   403   403

statements/{statement}/xlsx/        GET    401   200   200   404   403   403   403   403
statements/{statement}/xlsx/        POST   401   405   405   405   403   403   403   403
statements/{statement}/xlsx/        PUT    401   405   405   405   403   403   403   403
statements/{statement}/xlsx/        PATCH  401   405   405   405   403   403   403   403
statements/{statement}/xlsx/        DELETE 401   405   405   405   403   403   403   403

household-earnings/                 GET    401   200   200   200   403   403   403   403
household-earnings/                 POST   401   405   405   405   403   403   403   403
household-earnings/                 PUT    401   405   405   405   403   403   403   403
household-earnings/                 PATCH  401   405   405   405   403   403   403   403
household-earnings/                 DELETE 401   405   405   405   403   403   403   403

settlement-runs/                    GET    401   200   403   403   403   403   403   403
settlement-runs/                    POST   401   201   403   403   403   403   403   403
settlement-runs/                    PUT    401   405   403   403   403   403   403   403
settlement-runs/                    PATCH  401   405   403   403   403   403   403   403
settlement-runs/                    DELETE 401   405   403   403   403   403   403   403

settlement-runs/{settlement_run}/   GET    401   200   403   403   403   403   403   403
settlement-runs/{settlement_run}/   POST   401   405   403   403   403   403   403   403
settlement-runs/{settlement_run}/   PUT    401   405   403   403   403   403   403   403
settlement-runs/{settlement_run}/   PATCH  401   405   403   403   403   403   403   403
settlement-runs/{settlement_run}/   DELETE 401   405   403   403   403   403   403   403

payouts/                            GET    401   200   403   403   403   403   403   403
payouts/                            POST   401   405   403   403   403   403   403   403
payouts/                            PUT    401   405   403   403   403   403   403   403
payouts/                            PATCH  401   405   403   403   403   403   403   403
payouts/                            DELETE 401   405   403   403   403   403   403   403

payouts/{payout}/                   GET    401   200   403   403   403   403   403   403
payouts/{payout}/                   POST   401   405   403   403   403   403   403   403
payouts/{payout}/                   PUT    401   405   403   403   403   403   403   403
payouts/{payout}/                   PATCH  401   405   403   403   403   403   403   403
payouts/{payout}/                   DELETE 401   405   403   403   403   403   403   403

# The world's payout is a bank payout in a batch: only a failed Stripe transfer is retried.
payouts/{payout}/retry/             GET    401   405   403   403   403   403   403   403
payouts/{payout}/retry/             POST   401   409   403   403   403   403   403   403
payouts/{payout}/retry/             PUT    401   405   403   403   403   403   403   403
payouts/{payout}/retry/             PATCH  401   405   403   403   403   403   403   403
payouts/{payout}/retry/             DELETE 401   405   403   403   403   403   403   403

# Likewise only a failed Stripe transfer moves to the bank batch: the world's is one already.
payouts/{payout}/move-to-bank-batch/ GET    401   405   403   403   403   403   403   403
payouts/{payout}/move-to-bank-batch/ POST   401   409   403   403   403   403   403   403
payouts/{payout}/move-to-bank-batch/ PUT    401   405   403   403   403   403   403   403
payouts/{payout}/move-to-bank-batch/ PATCH  401   405   403   403   403   403   403   403
payouts/{payout}/move-to-bank-batch/ DELETE 401   405   403   403   403   403   403   403

bank-batches/                       GET    401   200   403   403   403   403   403   403
bank-batches/                       POST   401   409   403   403   403   403   403   403
bank-batches/                       PUT    401   405   403   403   403   403   403   403
bank-batches/                       PATCH  401   405   403   403   403   403   403   403
bank-batches/                       DELETE 401   405   403   403   403   403   403   403

bank-batches/{batch}/               GET    401   200   403   403   403   403   403   403
bank-batches/{batch}/               POST   401   405   403   403   403   403   403   403
bank-batches/{batch}/               PUT    401   405   403   403   403   403   403   403
bank-batches/{batch}/               PATCH  401   405   403   403   403   403   403   403
bank-batches/{batch}/               DELETE 401   405   403   403   403   403   403   403

bank-batches/{batch}/csv/           GET    401   200   403   403   403   403   403   403
bank-batches/{batch}/csv/           POST   401   405   403   403   403   403   403   403
bank-batches/{batch}/csv/           PUT    401   405   403   403   403   403   403   403
bank-batches/{batch}/csv/           PATCH  401   405   403   403   403   403   403   403
bank-batches/{batch}/csv/           DELETE 401   405   403   403   403   403   403   403

bank-batches/{batch}/xlsx/          GET    401   200   403   403   403   403   403   403
bank-batches/{batch}/xlsx/          POST   401   405   403   403   403   403   403   403
bank-batches/{batch}/xlsx/          PUT    401   405   403   403   403   403   403   403
bank-batches/{batch}/xlsx/          PATCH  401   405   403   403   403   403   403   403
bank-batches/{batch}/xlsx/          DELETE 401   405   403   403   403   403   403   403

bank-batches/{batch}/mark-paid/     GET    401   405   403   403   403   403   403   403
bank-batches/{batch}/mark-paid/     POST   401   200   403   403   403   403   403   403
bank-batches/{batch}/mark-paid/     PUT    401   405   403   403   403   403   403   403
bank-batches/{batch}/mark-paid/     PATCH  401   405   403   403   403   403   403   403
bank-batches/{batch}/mark-paid/     DELETE 401   405   403   403   403   403   403   403

delivery-schedules/                 GET    401   200   200   200   200   200   200   200
delivery-schedules/                 POST   401   400   403   403   403   403   403   403
delivery-schedules/                 PUT    401   405   403   403   403   403   403   403
delivery-schedules/                 PATCH  401   405   403   403   403   403   403   403
delivery-schedules/                 DELETE 401   405   403   403   403   403   403   403

delivery-schedules/{schedule}/      GET    401   200   200   200   200   200   200   200
delivery-schedules/{schedule}/      POST   401   405   403   403   403   403   403   403
delivery-schedules/{schedule}/      PUT    401   400   403   403   403   403   403   403
delivery-schedules/{schedule}/      PATCH  401   200   403   403   403   403   403   403
delivery-schedules/{schedule}/      DELETE 401   405   403   403   403   403   403   403

delivery-runs/                      GET    401   200   200   200   200   200   200   200
delivery-runs/                      POST   401   405   405   405   405   405   405   405
delivery-runs/                      PUT    401   405   405   405   405   405   405   405
delivery-runs/                      PATCH  401   405   405   405   405   405   405   405
delivery-runs/                      DELETE 401   405   405   405   405   405   405   405

delivery-runs/{run}/                GET    401   200   200   404   200   200   404   200
delivery-runs/{run}/                POST   401   405   405   405   405   405   405   405
delivery-runs/{run}/                PUT    401   405   405   405   405   405   405   405
delivery-runs/{run}/                PATCH  401   405   405   405   405   405   405   405
delivery-runs/{run}/                DELETE 401   405   405   405   405   405   405   405

delivery-runs/{run}/manifest/       GET    401   200   200   404   200   200   404   200
delivery-runs/{run}/manifest/       POST   401   405   405   405   405   405   405   405
delivery-runs/{run}/manifest/       PUT    401   405   405   405   405   405   405   405
delivery-runs/{run}/manifest/       PATCH  401   405   405   405   405   405   405   405
delivery-runs/{run}/manifest/       DELETE 401   405   405   405   405   405   405   405

shipments/                          GET    401   200   200   200   200   200   200   200
shipments/                          POST   401   400   400   400   403   403   403   403
shipments/                          PUT    401   405   405   405   403   403   403   403
shipments/                          PATCH  401   405   405   405   403   403   403   403
shipments/                          DELETE 401   405   405   405   403   403   403   403

shipments/csv/                      GET    401   200   200   200   200   200   200   200
shipments/csv/                      POST   401   405   405   405   403   403   403   403
shipments/csv/                      PUT    401   405   405   405   403   403   403   403
shipments/csv/                      PATCH  401   405   405   405   403   403   403   403
shipments/csv/                      DELETE 401   405   405   405   403   403   403   403

shipments/xlsx/                     GET    401   200   200   200   200   200   200   200
shipments/xlsx/                     POST   401   405   405   405   403   403   403   403
shipments/xlsx/                     PUT    401   405   405   405   403   403   403   403
shipments/xlsx/                     PATCH  401   405   405   405   403   403   403   403
shipments/xlsx/                     DELETE 401   405   405   405   403   403   403   403

shipments/{shipment}/               GET    401   200   200   404   200   200   404   200
shipments/{shipment}/               POST   401   405   405   405   403   403   403   403
shipments/{shipment}/               PUT    401   405   405   405   403   403   403   403
shipments/{shipment}/               PATCH  401   200   200   404   403   403   403   403
shipments/{shipment}/               DELETE 401   405   405   405   403   403   403   403

shipments/{shipment}/delay/         GET    401   405   405   405   405   405   405   405
shipments/{shipment}/delay/         POST   401   400   400   404   403   403   403   403
shipments/{shipment}/delay/         PUT    401   405   405   405   403   403   403   403
shipments/{shipment}/delay/         PATCH  401   405   405   405   403   403   403   403
shipments/{shipment}/delay/         DELETE 401   405   405   405   403   403   403   403

delivery-notes/csv/                 GET    401   200   200   200   200   200   200   200
delivery-notes/csv/                 POST   401   405   405   405   405   405   405   405
delivery-notes/csv/                 PUT    401   405   405   405   405   405   405   405
delivery-notes/csv/                 PATCH  401   405   405   405   405   405   405   405
delivery-notes/csv/                 DELETE 401   405   405   405   405   405   405   405

delivery-notes/xlsx/                GET    401   200   200   200   200   200   200   200
delivery-notes/xlsx/                POST   401   405   405   405   405   405   405   405
delivery-notes/xlsx/                PUT    401   405   405   405   405   405   405   405
delivery-notes/xlsx/                PATCH  401   405   405   405   405   405   405   405
delivery-notes/xlsx/                DELETE 401   405   405   405   405   405   405   405
notices/                            GET    401   200   200   200   200   200   200   200
notices/                            POST   401   405   405   405   405   405   405   405
notices/                            PUT    401   405   405   405   405   405   405   405
notices/                            PATCH  401   405   405   405   405   405   405   405
notices/                            DELETE 401   405   405   405   405   405   405   405

notices/{notice}/                   GET    401   404   404   404   200   404   404   404
notices/{notice}/                   POST   401   405   405   405   405   405   405   405
notices/{notice}/                   PUT    401   405   405   405   405   405   405   405
notices/{notice}/                   PATCH  401   405   405   405   405   405   405   405
notices/{notice}/                   DELETE 401   405   405   405   405   405   405   405

notices/{notice}/read/              GET    401   405   405   405   405   405   405   405
notices/{notice}/read/              POST   401   404   404   404   200   404   404   404
notices/{notice}/read/              PUT    401   405   405   405   405   405   405   405
notices/{notice}/read/              PATCH  401   405   405   405   405   405   405   405
notices/{notice}/read/              DELETE 401   405   405   405   405   405   405   405

notices/read-all/                   GET    401   405   405   405   405   405   405   405
notices/read-all/                   POST   401   200   200   200   200   200   200   200
notices/read-all/                   PUT    401   405   405   405   405   405   405   405
notices/read-all/                   PATCH  401   405   405   405   405   405   405   405
notices/read-all/                   DELETE 401   405   405   405   405   405   405   405

outbox/                             GET    401   200   403   403   403   403   403   403
outbox/                             POST   401   405   403   403   403   403   403   403
outbox/                             PUT    401   405   403   403   403   403   403   403
outbox/                             PATCH  401   405   403   403   403   403   403   403
outbox/                             DELETE 401   405   403   403   403   403   403   403

outbox/{outbox}/                    GET    401   200   403   403   403   403   403   403
outbox/{outbox}/                    POST   401   405   403   403   403   403   403   403
outbox/{outbox}/                    PUT    401   405   403   403   403   403   403   403
outbox/{outbox}/                    PATCH  401   405   403   403   403   403   403   403
outbox/{outbox}/                    DELETE 401   405   403   403   403   403   403   403

outbox/{outbox}/replay/             GET    401   405   403   403   403   403   403   403
outbox/{outbox}/replay/             POST   401   409   403   403   403   403   403   403
outbox/{outbox}/replay/             PUT    401   405   403   403   403   403   403   403
outbox/{outbox}/replay/             PATCH  401   405   403   403   403   403   403   403
outbox/{outbox}/replay/             DELETE 401   405   403   403   403   403   403   403

delivery-notes/{fulfilment}/        GET    401   200   200   404   200   200   404   200
delivery-notes/{fulfilment}/        POST   401   405   405   405   405   405   405   405
delivery-notes/{fulfilment}/        PUT    401   405   405   405   405   405   405   405
delivery-notes/{fulfilment}/        PATCH  401   405   405   405   405   405   405   405
delivery-notes/{fulfilment}/        DELETE 401   405   405   405   405   405   405   405

delivery-notes/{fulfilment}/link/   GET    401   405   405   405   405   405   405   405
delivery-notes/{fulfilment}/link/   POST   401   200   200   404   200   200   404   200
delivery-notes/{fulfilment}/link/   PUT    401   405   405   405   405   405   405   405
delivery-notes/{fulfilment}/link/   PATCH  401   405   405   405   405   405   405   405
delivery-notes/{fulfilment}/link/   DELETE 401   405   405   405   405   405   405   405

partner-keys/                       GET    401   200   403   403   403   200   403   403
partner-keys/                       POST   401   400   403   403   403   400   403   403
partner-keys/                       PUT    401   405   403   403   403   405   403   403
partner-keys/                       PATCH  401   405   403   403   403   405   403   403
partner-keys/                       DELETE 401   405   403   403   403   405   403   403

partner-keys/{partner_key}/         GET    401   200   403   403   403   200   403   403
partner-keys/{partner_key}/         POST   401   405   403   403   403   405   403   403
partner-keys/{partner_key}/         PUT    401   405   403   403   403   405   403   403
partner-keys/{partner_key}/         PATCH  401   405   403   403   403   405   403   403
partner-keys/{partner_key}/         DELETE 401   200   403   403   403   200   403   403

webhook-endpoints/                  GET    401   200   403   403   403   200   403   403
webhook-endpoints/                  POST   401   400   403   403   403   400   403   403
webhook-endpoints/                  PUT    401   405   403   403   403   405   403   403
webhook-endpoints/                  PATCH  401   405   403   403   403   405   403   403
webhook-endpoints/                  DELETE 401   405   403   403   403   405   403   403

webhook-endpoints/{webhook}/        GET    401   200   403   403   403   200   403   403
webhook-endpoints/{webhook}/        POST   401   405   403   403   403   405   403   403
webhook-endpoints/{webhook}/        PUT    401   405   403   403   403   405   403   403
webhook-endpoints/{webhook}/        PATCH  401   200   403   403   403   200   403   403
webhook-endpoints/{webhook}/        DELETE 401   200   403   403   403   200   403   403

webhook-endpoints/{webhook}/rotate-secret/ GET    401   405   403   403   403   405   403   403

webhook-endpoints/{webhook}/rotate-secret/ POST   401   200   403   403   403   200   403   403

webhook-endpoints/{webhook}/rotate-secret/ PUT    401   405   403   403   403   405   403   403

webhook-endpoints/{webhook}/rotate-secret/ PATCH  401   405   403   403   403   405   403   403

webhook-endpoints/{webhook}/rotate-secret/ DELETE 401   405   403   403   403   405   403   403

webhook-endpoints/{webhook}/ping/   GET    401   405   403   403   403   405   403   403
webhook-endpoints/{webhook}/ping/   POST   401   200   403   403   403   200   403   403
webhook-endpoints/{webhook}/ping/   PUT    401   405   403   403   403   405   403   403
webhook-endpoints/{webhook}/ping/   PATCH  401   405   403   403   403   405   403   403
webhook-endpoints/{webhook}/ping/   DELETE 401   405   403   403   403   405   403   403

webhook-endpoints/{webhook}/deliveries/ GET    401   200   403   403   403   200   403   403
webhook-endpoints/{webhook}/deliveries/ POST   401   405   403   403   403   405   403   403
webhook-endpoints/{webhook}/deliveries/ PUT    401   405   403   403   403   405   403   403
webhook-endpoints/{webhook}/deliveries/ PATCH  401   405   403   403   403   405   403   403
webhook-endpoints/{webhook}/deliveries/ DELETE 401   405   403   403   403   405   403   403
"""

# Routes that are not the API's resources, with why they are not in the table.
NOT_IN_TABLE = {
    "healthz": "health check: open to load balancers, answers about the database and Redis",
    "schema": "OpenAPI document (tests/backend/test_schema.py)",
    "docs": "Swagger UI over the schema",
    "set_language": "Django's language switch for the admin",
    "delivery-note-signed": "the delivery note behind a signed link (no account: the signature "
    "is the credential; tests/logistics/test_api.py)",
}
NOT_IN_TABLE_NAMESPACES = {
    "admin": "Django admin: staff sign in with a session (test_admin.py)",
    "mobile": "the managers' phone page: session sign-in, managers only, each part through "
    "orders' selectors (tests/mobile)",
}


def parse(table: str) -> dict[tuple[str, str], dict[str, int]]:
    expected = {}
    for line in table.strip().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        path, method, *codes = line.split()
        assert len(codes) == len(ROLES), line
        assert (path, method) not in expected, f"listed twice: {path} {method}"
        expected[(path, method)] = dict(zip(ROLES, map(int, codes), strict=True))
    return expected


EXPECTED = parse(TABLE)
ENDPOINTS = list(dict.fromkeys(path for path, _method in EXPECTED))


def _clear_throttles() -> None:
    """Login throttles count per address; this table sends many requests from one."""
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


class _RollBack(Exception):
    pass


def request_status(client, method: str, path: str, rows: dict) -> int:
    """Send the request and roll back whatever it wrote."""
    _clear_throttles()
    url = API + path.format(**rows)
    status = None
    try:
        with transaction.atomic():
            response = client.generic(method, url, data="{}", content_type="application/json")
            status = response.status_code
            raise _RollBack
    except _RollBack:
        pass
    return status


@pytest.fixture
def world():
    return build_world()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_who_may_do_what(world, path):
    rows, clients = world
    wrong = {}
    for method in METHODS:
        expected = EXPECTED.get((path, method))
        assert expected is not None, f"{path} {method} is missing from the table"
        got = {role: request_status(clients[role], method, path, rows) for role in ROLES}
        if got != expected:
            wrong[method] = {
                r: f"{expected[r]} -> {got[r]}" for r in ROLES if got[r] != expected[r]
            }
    assert wrong == {}, f"{path}: expected -> got"


def _route_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or pattern.pattern}"


def test_every_route_is_in_the_table(world):
    rows, _clients = world
    in_table = {resolve(API + path.format(**rows)).view_name for path in ENDPOINTS}
    routes = set(_route_names(get_resolver().url_patterns))
    left_out = {
        name
        for name in routes
        if name not in NOT_IN_TABLE and name.split(":")[0] not in NOT_IN_TABLE_NAMESPACES
    }
    assert left_out - in_table == set(), "add these routes to TABLE, with who may use them"
    assert in_table <= routes
