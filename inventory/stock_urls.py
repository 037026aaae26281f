"""Pages of Network stock (mounted at /network/stock/)."""

from django.urls import path

from inventory import stock_views as views

urlpatterns = [
    path("", views.stock_overview_page, name="inventory-stock"),
    path("products/", views.product_list, name="inventory-products"),
    # Before the product page: "new" would otherwise be read as an article number.
    path("products/new/", views.product_new, name="inventory-product-new"),
    path("products/<slug:sku>/", views.product_detail, name="inventory-product"),
    path("products/<slug:sku>/edit/", views.product_edit, name="inventory-product-edit"),
    path("products/<slug:sku>/issue/", views.product_issue, name="inventory-product-issue"),
    path(
        "products/<slug:sku>/transfer/", views.product_transfer, name="inventory-product-transfer"
    ),
    path("orders/", views.order_list, name="inventory-orders"),
    path("orders/new/", views.order_new, name="inventory-order-new"),
    path("orders/<str:number>/", views.order_detail, name="inventory-order"),
    path(
        "orders/<str:number>/lines/<int:line>/receive/",
        views.order_receive,
        name="inventory-receive",
    ),
    path("counts/", views.count_list, name="inventory-counts"),
    path("counts/new/", views.count_new, name="inventory-count-new"),
    path("counts/<int:pk>/", views.count_detail, name="inventory-count"),
    path("counts/<int:pk>/record/", views.count_record, name="inventory-count-record"),
    path("counts/<int:pk>/close/", views.count_close, name="inventory-count-close"),
]
