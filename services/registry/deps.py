"""Who may do what in the registry."""

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, Role, require_roles

# Maintaining the directories is the registry clerks' job; other systems push via SERVICE.
Writer = Annotated[Principal, Depends(require_roles(Role.REGISTRY_CLERK, Role.SERVICE))]
# Every officer role may read objects within its jurisdiction.
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.REGISTRY_CLERK,
            Role.SERVICE,
            Role.CREDIT_OFFICER,
            Role.BUSINESS_OFFICER,
            Role.INSPECTOR,
        )
    ),
]

# The inspector directory holds avoidance declarations (relatives' names, related
# entities): for those who keep it and those who assign inspectors, not for colleagues.
InspectorDirectoryReader = Annotated[
    Principal,
    Depends(
        require_roles(Role.REGISTRY_CLERK, Role.SERVICE, Role.CREDIT_OFFICER, Role.BUSINESS_OFFICER)
    ),
]
