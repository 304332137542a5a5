"""Small factories for CRM tests."""
from portal.crm.models import Customer, CustomerDomain
from portal.crm.records import search_text_of
from portal.extensions import db


def make_customer(name="Acme Logistics", *, domain=None, domains=(), commit=True, **fields):
    """A customer record written directly (tests of the record services go through save_customer instead)."""
    names = [d for d in ([domain] if domain else []) + list(domains)]
    customer = Customer(name=name, domains=[CustomerDomain(domain=d) for d in names], **fields)
    customer.search_text = search_text_of(customer, names)
    db.session.add(customer)
    if commit:
        db.session.commit()
    return customer
