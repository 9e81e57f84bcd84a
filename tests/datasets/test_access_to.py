"""What a person may do with a dataset (catalog.access_to), read with one prepared lookup of
the dataset's shares: a share with them or their role, for reading or for changing."""

from __future__ import annotations

from server.datasets.catalog import access_to
from server.datasets.sharing import share
from server.models import DatasetShare, User
from tests.helpers import make_dataset, make_role, make_user


def test_access_follows_the_owner_the_shares_and_the_permissions(app, people):
    with app.app_context():
        clerk = make_role("Clerk", [])
        dataset = make_dataset(app, people["editor"], "id,x\n1,a\n", name="Ledger")
        other = make_dataset(app, people["editor"], "id,x\n1,b\n", name="Other")
        ann = make_user("ann", clerk)
        bob = make_user("bob", clerk)
        editor, viewer, admin = people["editor"], people["viewer"], people["admin"]
        assert access_to(editor, dataset) == "edit"  # the owner
        assert access_to(admin, dataset) == "edit"  # datasets.edit_all
        assert access_to(ann, dataset) is None
        assert access_to(viewer, dataset) is None
        share(dataset, by=editor, role=clerk)
        assert access_to(ann, dataset) == access_to(bob, dataset) == "read"
        assert access_to(ann, other) is None  # a share is for its own dataset only
        share(dataset, by=editor, user=ann, can_edit=True)
        assert access_to(ann, dataset) == "edit" and access_to(bob, dataset) == "read"
        share(dataset, by=editor, role=clerk, can_edit=True)
        assert access_to(bob, dataset) == "edit"
        share(dataset, by=editor, user=viewer)
        assert access_to(viewer, dataset) == "read"
        DatasetShare.delete().where(DatasetShare.user == viewer.id).execute()
        assert access_to(User.get_by_id(viewer.id), dataset) is None
