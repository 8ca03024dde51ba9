"""HubSpot search builders on their own: shapes, limits, hostile input."""

from __future__ import annotations

import pytest

from crm.adapters.hubspot.query import (
    check_limits,
    check_object_type,
    dynamic_filter_groups,
    email_filter_groups,
    is_record_id,
    name_filter_groups,
    phone_filter_groups,
    search_body,
)
from crm.errors import CrmRejectedError
from crm.models import Condition

from .dataset import HOSTILE_INPUTS


def test_phone_groups_use_in_per_text_field_and_the_national_number_per_calculated_field():
    groups = phone_filter_groups(
        ["+49301234567", "030 1234567", "+49301234567"],
        "301234567",
        ["phone", "mobilephone"],
        ["hs_searchable_calculated_phone_number"],
    )
    assert groups == [
        {
            "filters": [
                {
                    "propertyName": "hs_searchable_calculated_phone_number",
                    "operator": "EQ",
                    "value": "301234567",
                }
            ]
        },
        {
            "filters": [
                {
                    "propertyName": "phone",
                    "operator": "IN",
                    "values": ["+49301234567", "030 1234567"],
                }
            ]
        },
        {
            "filters": [
                {
                    "propertyName": "mobilephone",
                    "operator": "IN",
                    "values": ["+49301234567", "030 1234567"],
                }
            ]
        },
    ]


def test_blank_input_builds_no_group_so_nothing_is_searched():
    assert email_filter_groups("   ") == []
    assert name_filter_groups(" \t", "firstname", "lastname") == []
    assert phone_filter_groups([" "], None, ["phone"]) == []


def test_name_groups_cover_last_name_first_name_and_both():
    one = name_filter_groups("Fischer", "firstname", "lastname")
    assert {"filters": [{"propertyName": "lastname", "operator": "EQ", "value": "Fischer"}]} in one
    assert {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "Fischer"}]} in one
    both = name_filter_groups("Anna  Schmidt", "firstname", "lastname")
    assert {
        "filters": [
            {"propertyName": "firstname", "operator": "EQ", "value": "Anna"},
            {"propertyName": "lastname", "operator": "EQ", "value": "Schmidt"},
        ]
    } in both


@pytest.mark.parametrize("value", HOSTILE_INPUTS)
def test_hostile_values_stay_whole_values_of_an_exact_operator(value):
    for groups in (
        email_filter_groups(value),
        name_filter_groups(value, "firstname", "lastname"),
        dynamic_filter_groups([Condition(field="jobtitle", value=value)], "and"),
    ):
        filters = [f for group in groups for f in group["filters"]]
        assert filters and all(f["operator"] in ("EQ", "NEQ") for f in filters)
        assert all(
            f["value"]
            in (
                value,
                value.split()[-1],
                " ".join(value.split()[:-1]),
                " ".join(value.split()),
                value.split()[0],
                " ".join(value.split()[1:]),
            )
            for f in filters
        )


@pytest.mark.parametrize("name", ["a.b", "name eq 'x'", 'x"y', "", "1abc", "a b", "a'--"])
def test_property_names_outside_hubspots_shape_are_refused(name):
    with pytest.raises(CrmRejectedError):
        dynamic_filter_groups([Condition(field=name, value="x")], "and")


@pytest.mark.parametrize("name", ["contacts/../owners", "contacts?x=1", "", "0-1/x"])
def test_object_types_that_would_change_the_url_path_are_refused(name):
    with pytest.raises(CrmRejectedError):
        check_object_type(name)


def test_object_type_ids_and_custom_names_are_accepted():
    assert check_object_type("2-7001") == "2-7001"
    assert check_object_type("p4711_vehicles") == "p4711_vehicles"


def test_record_ids_are_decimal():
    assert is_record_id("1001") and not is_record_id("1001 OR 1") and not is_record_id("")


def test_dynamic_and_is_one_group_or_is_one_group_each():
    conditions = [
        Condition(field="jobtitle", value="a"),
        Condition(field="lastname", operator="notequals", value="b"),
    ]
    assert len(dynamic_filter_groups(conditions, "and")) == 1
    groups = dynamic_filter_groups(conditions, "or")
    assert [g["filters"][0]["operator"] for g in groups] == ["EQ", "NEQ"]


def test_dynamic_search_over_hubspots_limits_is_refused_not_truncated():
    six = [Condition(field="jobtitle", value=str(i)) for i in range(6)]
    with pytest.raises(CrmRejectedError):
        dynamic_filter_groups(six, "or")
    eleven = [Condition(field="jobtitle", value=str(i)) for i in range(11)]
    with pytest.raises(CrmRejectedError):
        dynamic_filter_groups(eleven, "and")
    with pytest.raises(CrmRejectedError):
        check_limits([{"filters": [{}] * 9}, {"filters": [{}] * 9}, {"filters": [{}] * 9}])
    with pytest.raises(CrmRejectedError):
        dynamic_filter_groups([], "and")


def test_search_body_caps_the_page_size_and_carries_the_cursor():
    body = search_body([], ["email"], 500, after="200")
    assert body["limit"] == 200 and body["after"] == "200" and body["properties"] == ["email"]
