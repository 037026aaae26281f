"""Pages of Network deliveries (mounted at /network/deliveries/)."""

from django.urls import path

from inventory import delivery_views as views

urlpatterns = [
    path("", views.board, name="inventory-deliveries"),
    # Before the delivery page: "new" would otherwise be read as a number.
    path("new/", views.delivery_new, name="inventory-delivery-new"),
    path("<str:number>/", views.delivery_detail, name="inventory-delivery"),
    path("<str:number>/document/", views.delivery_document, name="inventory-delivery-document"),
    path("<str:number>/document.pdf", views.delivery_pdf, name="inventory-delivery-pdf"),
    path("<str:number>/letter.txt", views.delivery_letter, name="inventory-delivery-letter"),
    path("<str:number>/steps/", views.delivery_step, name="inventory-delivery-step"),
    path("<str:number>/register/", views.delivery_register, name="inventory-delivery-register"),
    path("<str:number>/assign/", views.delivery_assign, name="inventory-delivery-assign"),
    path("<str:number>/issues/", views.delivery_issue, name="inventory-delivery-issue"),
    path("<str:number>/retest/", views.delivery_retest, name="inventory-delivery-retest"),
    path("<str:number>/confirm/", views.delivery_confirm, name="inventory-delivery-confirm"),
    path("<str:number>/complete/", views.delivery_complete, name="inventory-delivery-complete"),
    path("<str:number>/cancel/", views.delivery_cancel, name="inventory-delivery-cancel"),
]
