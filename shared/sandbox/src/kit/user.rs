//! What a vendor's own user does in its UI, for suites that need the vendor's side to change
//! when the connector writes nothing there (a shopper placing an order in a web shop), without
//! naming the vendor: the registry's start sets it on the [`super::Sandbox`] handle.

/// A vendor's user, acting as the vendor's UI lets them.
pub trait VendorUser: Send + Sync {
    /// The entity the user makes (`order`, as a canonical kind is spelled).
    fn entity(&self) -> &'static str;

    /// Makes the `n`th new record (a different one for each `n`) the way the vendor's user
    /// would, firing the vendor's webhooks; its id.
    fn make(&self, n: u32) -> Result<String, String>;
}
