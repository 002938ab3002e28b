"""Every type (enums and unions included), field and input field of the schema is described."""

from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from schema.schema import schema


def test_every_type_and_field_has_a_description_ending_with_a_full_stop() -> None:
    missing: list[str] = []
    graphql_schema = schema._schema
    for name, type_ in graphql_schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not (type_.description or "").rstrip().endswith("."):
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not (field.description or "").rstrip().endswith("."):
                    missing.append(f"{name}.{field_name}")

    assert missing == []
