import strawberry

from service.models import Organization as OrganizationModel


@strawberry.type(description="The organization (tenant) the API key belongs to.")
class Organization:
    name: str = strawberry.field(description="Display name of the organization.")

    @classmethod
    def from_model(cls, model: OrganizationModel) -> "Organization":
        return cls(name=model.name)
