from django.urls import path

from .views import account, fulfilment, listings, lots, money, notices, offline, today

app_name = "mobile"

urlpatterns = [
    path("", today.today, name="today"),
    path("login/", account.login, name="login"),
    path("logout/", account.logout, name="logout"),
    path("f/<int:fulfilment_id>/", fulfilment.fulfilment, name="fulfilment"),
    path("f/<int:fulfilment_id>/note/", fulfilment.delivery_note, name="delivery-note"),
    path("sw.js", offline.service_worker, name="service-worker"),
]

# Listings, Money, Notices.
urlpatterns += [
    path("listings/", listings.listings, name="listings"),
    path("listings/<int:listing_id>/", listings.listing, name="listing"),
    path("money/", money.statements, name="money"),
    path("money/<int:statement_id>/", money.statement, name="statement"),
    path("money/households/<int:household_id>/", money.household, name="household"),
    path("notices/", notices.inbox, name="notices"),
    path("notices/read-all/", notices.read_all, name="notices-read-all"),
    path("notices/<int:notice_id>/", notices.notice, name="notice"),
    path("lots/new/", lots.lot_new, name="lot-new"),
    path("lots/new/hits/", lots.hits, name="lot-hits"),
    path("lots/new/row/", lots.row, name="lot-row"),
    path("lots/<int:lot_id>/", lots.lot, name="lot"),
]
