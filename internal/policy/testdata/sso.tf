# rolehop policy: the roles and policies of a rolehop chain.
# Configure each provider's credentials (profile, assume_role, ...) for its account, then terraform init && terraform apply.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

# Account 222222222222: configure this provider's credentials.
provider "aws" {
  alias               = "account_222222222222"
  allowed_account_ids = ["222222222222"]
}

# Account 111111111111: configure this provider's credentials.
provider "aws" {
  alias               = "account_111111111111"
  allowed_account_ids = ["111111111111"]
}

resource "aws_iam_role" "hop1_RoleB" {
  provider = aws.account_222222222222
  name     = "RoleB"
  path     = "/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopHop1"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::111111111111:root"
        }
        Action = "sts:AssumeRole"
        Condition = {
          ArnLike = {
            "aws:PrincipalArn" = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_RoleA_*"
          }
        }
      },
    ]
  })
}

# Add this policy to permission set RoleA as a customer managed policy named rolehop-assume-RoleB;
# it must exist in every account the set is provisioned to.
resource "aws_iam_policy" "hop1_RoleB_caller" {
  provider    = aws.account_111111111111
  name        = "rolehop-assume-RoleB"
  description = "Lets permission set RoleA assume arn:aws:iam::222222222222:role/RoleB (rolehop)"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopAssumeHop1"
        Effect = "Allow"
        Action = "sts:AssumeRole"
        Resource = "arn:aws:iam::222222222222:role/RoleB"
      },
    ]
  })
}
