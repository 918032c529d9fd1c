//! What a Task's `Resource` ARN asks for.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Call the API and continue with its response.
    RequestResponse,
    /// `.sync`: start a job and wait for it to finish.
    Sync,
    /// `.waitForTaskToken`: call, then wait for SendTaskSuccess/Failure with the token.
    WaitForTaskToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `arn:aws:states:::service:action[.sync|.waitForTaskToken]`; for the AWS SDK
    /// integration (`arn:aws:states:::aws-sdk:service:action`) the service is
    /// `aws-sdk:service`, as history events name it.
    Service {
        service: String,
        action: String,
        pattern: Pattern,
    },
    /// A bare Lambda function ARN.
    Function {
        name: String,
    },
    Unsupported(String),
}

impl Resource {
    pub fn parse(arn: &str) -> Resource {
        if let Some(rest) = arn.strip_prefix("arn:aws:states:::") {
            let split = match rest.strip_prefix("aws-sdk:") {
                Some(sdk) => sdk
                    .split_once(':')
                    .map(|(service, action)| (format!("aws-sdk:{service}"), action)),
                None => rest
                    .split_once(':')
                    .map(|(service, action)| (service.to_string(), action)),
            };
            let Some((service, action)) = split.filter(|(s, a)| !s.is_empty() && !a.is_empty())
            else {
                return Resource::Unsupported(arn.to_string());
            };
            let (action, pattern) = if let Some(a) = action.strip_suffix(".waitForTaskToken") {
                (a, Pattern::WaitForTaskToken)
            } else if let Some(a) = action
                .strip_suffix(".sync:2")
                .or(action.strip_suffix(".sync"))
            {
                (a, Pattern::Sync)
            } else {
                (action, Pattern::RequestResponse)
            };
            return Resource::Service {
                service,
                action: action.to_string(),
                pattern,
            };
        }
        if arn.starts_with("arn:aws:lambda:") {
            if let Some(name) = function_name(arn) {
                return Resource::Function { name };
            }
        }
        Resource::Unsupported(arn.to_string())
    }

    /// `resourceType` and `resource` as history events show them.
    pub fn event_names(&self) -> (String, String) {
        match self {
            Resource::Service {
                service,
                action,
                pattern,
            } => {
                let suffix = match pattern {
                    Pattern::RequestResponse => "",
                    Pattern::Sync => ".sync",
                    Pattern::WaitForTaskToken => ".waitForTaskToken",
                };
                (service.clone(), format!("{action}{suffix}"))
            }
            Resource::Function { name } => ("lambda".into(), name.clone()),
            Resource::Unsupported(arn) => ("unknown".into(), arn.clone()),
        }
    }
}

/// The function name in a name, a partial or a full Lambda ARN (qualifier dropped).
pub fn function_name(reference: &str) -> Option<String> {
    let parts: Vec<&str> = reference.split(':').collect();
    let name = match parts.iter().position(|p| *p == "function") {
        Some(i) => parts.get(i + 1)?,
        None => parts.first()?,
    };
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html
    // (service integration patterns: Request Response, .sync, .waitForTaskToken)
    #[test]
    fn integration_patterns_are_recognised() {
        assert_eq!(
            Resource::parse("arn:aws:states:::sagemaker:createTrainingJob.sync"),
            Resource::Service {
                service: "sagemaker".into(),
                action: "createTrainingJob".into(),
                pattern: Pattern::Sync
            }
        );
        assert_eq!(
            Resource::parse("arn:aws:states:::lambda:invoke.waitForTaskToken"),
            Resource::Service {
                service: "lambda".into(),
                action: "invoke".into(),
                pattern: Pattern::WaitForTaskToken
            }
        );
        assert_eq!(
            Resource::parse("arn:aws:lambda:us-east-1:123456789012:function:HelloFunction:$LATEST"),
            Resource::Function {
                name: "HelloFunction".into()
            }
        );
        // https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
        // (arn:aws:states:::aws-sdk:serviceName:apiAction.[serviceIntegrationPattern])
        let sdk = Resource::parse("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint");
        assert_eq!(
            sdk,
            Resource::Service {
                service: "aws-sdk:sagemaker".into(),
                action: "describeEndpoint".into(),
                pattern: Pattern::RequestResponse
            }
        );
        assert_eq!(
            sdk.event_names(),
            ("aws-sdk:sagemaker".into(), "describeEndpoint".into())
        );
        assert!(matches!(
            Resource::parse("arn:aws:states:::aws-sdk:sagemaker"),
            Resource::Unsupported(_)
        ));
        assert!(matches!(
            Resource::parse("${Missing}"),
            Resource::Unsupported(_)
        ));
        assert_eq!(function_name("my-fn").as_deref(), Some("my-fn"));
        assert_eq!(
            function_name("123456789012:function:my-fn").as_deref(),
            Some("my-fn")
        );
    }
}
