"""Load benchmark of the service desk (`make bench`) and the side-by-side with
django-helpdesk (`make bench-peer`). Not part of the product: the floor view
and its URL exist only under bench.settings."""
