# rolehop policy: the roles and policies of a rolehop chain.
# Configure each provider's credentials (profile, assume_role, ...) for its account, then terraform init && terraform apply.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

# Account 111111111111: configure this provider's credentials.
provider "aws" {
  alias               = "account_111111111111"
  allowed_account_ids = ["111111111111"]
}

# Account 222222222222: configure this provider's credentials.
provider "aws" {
  alias               = "account_222222222222"
  allowed_account_ids = ["222222222222"]
}

resource "aws_iam_role" "web_identity_github" {
  provider = aws.account_111111111111
  name     = "github"
  path     = "/ci/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopWebIdentity"
        Effect = "Allow"
        Principal = {
          Federated = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
        }
        Action = "sts:AssumeRoleWithWebIdentity"
        Condition = {
          StringEquals = {
            "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
          }
          StringLike = {
            "token.actions.githubusercontent.com:sub" = "repo:octo-org/octo-repo:*"
          }
        }
      },
    ]
  })
}

resource "aws_iam_role" "hop1_deploy" {
  provider = aws.account_222222222222
  name     = "deploy"
  path     = "/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopHop1"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::111111111111:role/ci/github"
        }
        Action = "sts:AssumeRole"
      },
    ]
  })
  depends_on = [aws_iam_role.web_identity_github]
}

resource "aws_iam_role_policy" "hop1_deploy_caller" {
  provider = aws.account_111111111111
  name     = "rolehop-assume-deploy"
  role     = aws_iam_role.web_identity_github.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopAssumeHop1"
        Effect = "Allow"
        Action = "sts:AssumeRole"
        Resource = "arn:aws:iam::222222222222:role/deploy"
      },
    ]
  })
}
