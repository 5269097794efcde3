"""Support tools: reproduce a customer's MFA API problem, explain it, hand back a safe case bundle."""
