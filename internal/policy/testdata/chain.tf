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

resource "aws_iam_role" "hop1_dev" {
  provider = aws.account_111111111111
  name     = "dev"
  path     = "/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopHop1"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::111111111111:user/ci-user"
        }
        Action = "sts:AssumeRole"
        Condition = {
          Bool = {
            "aws:MultiFactorAuthPresent" = "true"
          }
          StringEquals = {
            "sts:RoleSessionName" = "$${aws:username}"
          }
        }
      },
    ]
  })
}

resource "aws_iam_user_policy" "hop1_dev_caller" {
  provider = aws.account_111111111111
  name     = "rolehop-assume-dev"
  user     = "ci-user"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopAssumeHop1"
        Effect = "Allow"
        Action = "sts:AssumeRole"
        Resource = "arn:aws:iam::111111111111:role/dev"
      },
    ]
  })
}

resource "aws_iam_role" "hop2_ops" {
  provider = aws.account_222222222222
  name     = "ops"
  path     = "/teams/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopHop2"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::111111111111:role/dev"
        }
        Action = [
          "sts:AssumeRole",
          "sts:SetSourceIdentity",
        ]
        Condition = {
          StringEquals = {
            "sts:ExternalId" = "ext-123"
            "sts:SourceIdentity" = "alice"
          }
        }
      },
    ]
  })
  depends_on = [aws_iam_role.hop1_dev]
}

resource "aws_iam_role_policy" "hop2_ops_caller" {
  provider = aws.account_111111111111
  name     = "rolehop-assume-ops"
  role     = aws_iam_role.hop1_dev.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopAssumeHop2"
        Effect = "Allow"
        Action = [
          "sts:AssumeRole",
          "sts:SetSourceIdentity",
        ]
        Resource = "arn:aws:iam::222222222222:role/teams/ops"
      },
    ]
  })
}

resource "aws_iam_role" "hop3_prod" {
  provider = aws.account_222222222222
  name     = "prod"
  path     = "/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopHop3"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::222222222222:role/teams/ops"
        }
        Action = [
          "sts:AssumeRole",
          "sts:TagSession",
          "sts:SetSourceIdentity",
        ]
        Condition = {
          StringEquals = {
            "aws:RequestTag/Project" = "blue"
          }
        }
      },
    ]
  })
  depends_on = [aws_iam_role.hop2_ops]
}

resource "aws_iam_role_policy" "hop3_prod_caller" {
  provider = aws.account_222222222222
  name     = "rolehop-assume-prod"
  role     = aws_iam_role.hop2_ops.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "RolehopAssumeHop3"
        Effect = "Allow"
        Action = [
          "sts:AssumeRole",
          "sts:TagSession",
        ]
        Resource = "arn:aws:iam::222222222222:role/prod"
      },
    ]
  })
}
