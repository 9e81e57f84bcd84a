"""One grants only what one holds: a delegated permission (people, roles, sharing) never lets
its holder give themselves, or anyone, more than they hold. Each refusal is a message on the
page (400), changes nothing and is audited as denied."""

from __future__ import annotations

import re

import pytest

from server.models import AuditEvent, DatasetShare, Role, RolePermission, User
from server.permissions import PERMISSIONS
from tests.helpers import make_dataset, make_role, make_user, signed_in


def refusals(action: str) -> list[AuditEvent]:
    query = AuditEvent.select().where(
        (AuditEvent.action == action) & (AuditEvent.outcome == "denied")
    )
    return list(query.order_by(AuditEvent.id))


def role_of(login: str) -> Role:
    return User.get(User.login == login).role


# --- users.manage ----------------------------------------------------------------------------
@pytest.fixture
def hr(app, people):
    """Someone whose role holds only users.manage."""
    make_user("hana", make_role("People desk", ["users.manage"]))
    return signed_in(app, "hana")


def test_a_people_manager_cannot_make_themselves_admin(hr, people):
    hana = User.get(User.login == "hana")
    admin = Role.get(Role.builtin == "admin")
    response = hr.post_form(f"/people/{hana.id}", {"display_name": "Hana", "role": admin.id})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The Admin role holds permissions you do not hold" in page
    assert role_of("hana").name == "People desk"
    [event] = refusals("user.change_refused")
    assert event.actor_id == hana.id and event.object_id == str(hana.id)
    assert "roles.manage" in event.details_dict["missing"]


def test_a_people_manager_gives_only_roles_within_their_own(hr, people):
    editor = Role.get(Role.builtin == "editor")
    response = hr.post_form(
        "/people/new", {"login": "newbie", "display_name": "New", "role": editor.id}
    )
    assert response.status_code == 400
    assert "The Editor role holds permissions you do not hold" in response.get_data(as_text=True)
    assert not User.select().where(User.login == "newbie").exists()
    vera = people["viewer"]
    response = hr.post_form(f"/people/{vera.id}", {"display_name": "Vera", "role": editor.id})
    assert response.status_code == 400 and role_of("vera").builtin == "viewer"
    # Roles within their own permissions are theirs to give.
    own = role_of("hana")
    response = hr.post_form(f"/people/{vera.id}", {"display_name": "V", "role": own.id})
    assert response.status_code == 302
    assert role_of("vera").id == own.id
    response = hr.post_form(
        "/people/new",
        {"login": "newbie", "display_name": "New", "role": Role.get(Role.builtin == "viewer").id},
    )
    assert response.status_code == 200 and User.get(User.login == "newbie").role.builtin == "viewer"
    assert len(refusals("user.change_refused")) == 2


def test_a_people_manager_cannot_take_over_someone_who_holds_more(app, hr, people):
    ada = people["admin"]
    before = User.get_by_id(ada.id)
    response = hr.post_form(f"/people/{ada.id}/reset-password")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Ada Admin holds permissions you do not hold" in page
    assert 'id="temporary-password"' not in page
    for action in ("disable", "unlock"):
        response = hr.post_form(f"/people/{ada.id}/{action}")
        assert response.status_code == 400, action
    response = hr.post_form(f"/people/{ada.id}", {"display_name": "Mallory", "role": ada.role_id})
    assert response.status_code == 400
    after = User.get_by_id(ada.id)
    assert after.password_hash == before.password_hash and after.active
    assert after.display_name == "Ada Admin"
    assert signed_in(app, "ada").get("/people").status_code == 200
    assert len(refusals("user.change_refused")) == 4
    # People within their permissions they still help.
    vera = people["viewer"]
    assert hr.post_form(f"/people/{vera.id}/reset-password").status_code == 200


def test_the_last_admin_rules_still_hold(admin_client, people):
    ada = people["admin"]
    viewer = Role.get(Role.builtin == "viewer")
    response = admin_client.post_form(f"/people/{ada.id}", {"display_name": "A", "role": viewer.id})
    assert "last active admin" in response.get_data(as_text=True)
    assert role_of("ada").is_admin


# --- roles.manage ----------------------------------------------------------------------------
@pytest.fixture
def steward(app, people):
    """Someone whose role holds only roles.manage."""
    make_user("rolf", make_role("Role steward", ["roles.manage"]))
    return signed_in(app, "rolf")


def test_a_role_manager_cannot_grant_their_own_role_everything(steward):
    own = role_of("rolf")
    response = steward.post_form(
        f"/roles/{own.id}", {"name": own.name, "permissions": list(PERMISSIONS)}
    )
    assert response.status_code == 400
    assert "only permissions you hold yourself" in response.get_data(as_text=True)
    assert Role.get_by_id(own.id).permission_names() == {"roles.manage"}
    [event] = refusals("role.change_refused")
    assert "users.manage" in event.details_dict["missing"]


def test_a_role_manager_creates_roles_only_within_their_permissions(steward):
    response = steward.post_form(
        "/roles/new", {"name": "Sneaky", "permissions": ["roles.manage", "backup.manage"]}
    )
    assert response.status_code == 400
    assert "you do not hold backup.manage" in response.get_data(as_text=True)
    assert not Role.select().where(Role.name == "Sneaky").exists()
    response = steward.post_form("/roles/new", {"name": "Helper", "permissions": ["roles.manage"]})
    assert response.status_code == 302
    assert Role.get(Role.name == "Helper").permission_names() == {"roles.manage"}


def test_a_role_manager_cannot_change_or_delete_a_role_that_holds_more(steward):
    editor = Role.get(Role.builtin == "editor")
    response = steward.post_form(f"/roles/{editor.id}", {"name": "Editor", "permissions": []})
    assert response.status_code == 400
    assert "The Editor role holds permissions you do not hold" in response.get_data(as_text=True)
    assert Role.get_by_id(editor.id).permission_names() == {"datasets.import", "datasets.export"}
    spare = make_role("Archivist", ["backup.manage"])
    response = steward.post_form(f"/roles/{spare.id}/delete")
    assert response.status_code == 400
    assert Role.select().where(Role.id == spare.id).exists()
    assert RolePermission.select().where(RolePermission.role == spare.id).count() == 1


# --- datasets.share --------------------------------------------------------------------------
@pytest.fixture
def reader(app, people):
    """Someone who may share any dataset they see, and reads the owner's Payroll."""
    make_user("rita", make_role("Sharer", ["datasets.share"]))
    dataset = make_dataset(app, people["editor"], name="Payroll")
    DatasetShare.create(dataset=dataset, user=User.get(User.login == "rita"), can_edit=False)
    return signed_in(app, "rita"), dataset


def shares(dataset) -> set[tuple[str, bool]]:
    found = set()
    for share in DatasetShare.select().where(DatasetShare.dataset == dataset.id):
        whom = f"user:{share.user.login}" if share.user_id else f"role:{share.role.name}"
        found.add((whom, share.can_edit))
    return found


def test_a_read_only_sharer_cannot_share_for_editing(app, reader, people):
    client, dataset = reader
    before = shares(dataset)
    rita, sharers = User.get(User.login == "rita"), role_of("rita")
    for target, message in [
        (f"user:{rita.id}", "You have access to this dataset already"),
        (f"role:{sharers.id}", "you can share it read only"),
        (f"user:{people['viewer'].id}", "you can share it read only"),
    ]:
        response = client.post_form(
            f"/datasets/{dataset.id}/sharing", {"target": target, "rights": "edit"}
        )
        assert response.status_code == 400, target
        assert message in response.get_data(as_text=True), target
    assert shares(dataset) == before
    assert client.get(f"/datasets/{dataset.id}/about").status_code == 403  # still reads only
    assert len(refusals("dataset.share_refused")) == 3
    # Read-only sharing is theirs to give.
    response = client.post_form(
        f"/datasets/{dataset.id}/sharing",
        {"target": f"user:{people['viewer'].id}", "rights": "read"},
    )
    assert response.status_code == 302
    assert ("user:vera", False) in shares(dataset)


def test_nobody_shares_with_themselves(app, reader):
    client, dataset = reader
    rita = User.get(User.login == "rita")
    response = client.post_form(
        f"/datasets/{dataset.id}/sharing", {"target": f"user:{rita.id}", "rights": "read"}
    )
    assert response.status_code == 400
    assert re.search(r"You have access to this dataset already", response.get_data(as_text=True))
    assert shares(dataset) == {("user:rita", False)}


def test_someone_who_may_change_it_shares_it_for_changing(app, people):
    make_user("eli", make_role("Sharing editor", ["datasets.share"]))
    dataset = make_dataset(app, people["editor"], name="Budget")
    DatasetShare.create(dataset=dataset, user=User.get(User.login == "eli"), can_edit=True)
    client = signed_in(app, "eli")
    response = client.post_form(
        f"/datasets/{dataset.id}/sharing",
        {"target": f"user:{people['viewer'].id}", "rights": "edit"},
    )
    assert response.status_code == 302
    assert ("user:vera", True) in shares(dataset)
