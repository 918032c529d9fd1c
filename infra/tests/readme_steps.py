"""What infra/README.md has a person do once the stacks exist, as API calls (boto3 clients of
the deployment's account): upload the training data, create a user."""

from pathlib import Path

IRIS = Path(__file__).resolve().parents[2] / "engine/data/iris"


def upload_iris(s3, bucket):
    """Step 1's `aws s3 cp`: the train/test split the pipeline reads (label in column 1, no
    header) under iris/ in the model bucket."""
    for split in ("train", "test"):
        s3.upload_file(str(IRIS / f"{split}.csv"), bucket, f"iris/{split}.csv")


def create_user(idp, pool, username, temporary_password, group):
    """"The first admin": admin-create-user with a temporary password and no invitation
    message, then admin-add-user-to-group. The user chooses a password at the first sign-in."""
    idp.admin_create_user(UserPoolId=pool, Username=username, TemporaryPassword=temporary_password,
                          MessageAction="SUPPRESS")
    idp.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
