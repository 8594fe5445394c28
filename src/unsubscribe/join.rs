//! The tokens of joining the list: the subscription form's, which a
//! request must bring back, and the confirmation link's.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{MEMBER_LEN, Signer, TokenError, hex, same_tag};
use crate::address::Key;

/// How long a form, once shown, takes a request.
pub const FORM_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The bytes of a form token's tag, and of a confirmation token's.
const FORM_TAG_LEN: usize = 12;
const CONFIRM_TAG_LEN: usize = 10;

/// Seconds since the epoch.
fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Signer {
    fn form_tag(&self, list: &str, client: IpAddr, issued: u64) -> [u8; FORM_TAG_LEN] {
        let client = client.to_canonical().to_string();
        self.keyed(&["breves-v2", "form", list, &client, &issued.to_string()])
    }

    /// The token of a form shown to `client` at `now`: when it was shown,
    /// signed for that client.
    pub fn form_token(&self, list: &str, client: IpAddr, now: SystemTime) -> String {
        let issued = seconds(now);
        let mut bytes = issued.to_be_bytes().to_vec();
        bytes.extend(self.form_tag(list, client, issued));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Whether `text` is the token of a form shown to `client` less than
    /// [`FORM_LIFETIME`] before `now`.
    pub fn form_token_is_good(
        &self,
        list: &str,
        client: IpAddr,
        text: &str,
        now: SystemTime,
    ) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(text.trim()) else {
            return false;
        };
        let Some((issued, tag)) = bytes.split_first_chunk::<8>() else {
            return false;
        };
        let issued = u64::from_be_bytes(*issued);
        let age = seconds(now).checked_sub(issued);
        same_tag(&self.form_tag(list, client, issued), tag)
            && age.is_some_and(|age| age <= FORM_LIFETIME.as_secs())
    }

    /// The code a confirmation link names a request by.
    pub fn request_code(&self, list: &str, address: &Key) -> String {
        hex(&self.member_code(list, address))
    }

    fn confirm_tag(&self, list: &str, body: &[u8]) -> [u8; CONFIRM_TAG_LEN] {
        self.keyed(&["breves-v2", "confirm", list, &hex(body)])
    }

    /// The token of a confirmation link for `address`, which works until
    /// `expires`.
    pub fn confirm_token(&self, list: &str, address: &Key, expires: SystemTime) -> String {
        let mut bytes = self.member_code(list, address).to_vec();
        bytes.extend(seconds(expires).to_be_bytes());
        let tag = self.confirm_tag(list, &bytes);
        bytes.extend(tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// What a confirmation token says, if its signature is right: the
    /// request's code ([`Signer::request_code`]) and when it expires.
    pub fn read_confirm_token(
        &self,
        list: &str,
        text: &str,
    ) -> Result<(String, SystemTime), TokenError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| TokenError::Malformed)?;
        if bytes.len() != MEMBER_LEN + 8 + CONFIRM_TAG_LEN {
            return Err(TokenError::Malformed);
        }
        let (body, tag) = bytes.split_at(MEMBER_LEN + 8);
        if !same_tag(&self.confirm_tag(list, body), tag) {
            return Err(TokenError::Forged);
        }
        let (member, expires) = body.split_at(MEMBER_LEN);
        let mut seconds = [0u8; 8];
        seconds.copy_from_slice(expires);
        let expires = UNIX_EPOCH + Duration::from_secs(u64::from_be_bytes(seconds));
        Ok((hex(member), expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_token_works_for_its_client_within_its_lifetime_only() {
        let signer = Signer::test();
        let client: IpAddr = [192, 0, 2, 1].into();
        let other: IpAddr = [192, 0, 2, 2].into();
        let shown = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = signer.form_token("l", client, shown);
        let later = shown + Duration::from_secs(3600);
        assert!(signer.form_token_is_good("l", client, &token, later));
        // A page left open for the working day still takes its request.
        let evening = shown + Duration::from_secs(11 * 3600);
        assert!(signer.form_token_is_good("l", client, &token, evening));
        assert!(signer.form_token_is_good("l", client, &token, shown + FORM_LIFETIME));
        assert!(
            !signer.form_token_is_good("l", other, &token, later),
            "another client"
        );
        assert!(
            !signer.form_token_is_good("autre", client, &token, later),
            "another list"
        );
        assert!(
            !signer.form_token_is_good(
                "l",
                client,
                &token,
                shown + FORM_LIFETIME + Duration::from_secs(1)
            ),
            "too old"
        );
        assert!(
            !signer.form_token_is_good("l", client, &token, shown - Duration::from_secs(1)),
            "from the future"
        );
        assert!(!signer.form_token_is_good("l", client, "", later));
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(!signer.form_token_is_good("l", client, &URL_SAFE_NO_PAD.encode(&bytes), later));
    }

    #[test]
    fn a_confirmation_token_names_its_request_and_cannot_be_moved_on() {
        let signer = Signer::test();
        let key = Key::from_text("nouvelle@example.org");
        let expires = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = signer.confirm_token("l", &key, expires);
        assert!(!token.contains("nouvelle"), "{token}");
        assert_eq!(
            signer.read_confirm_token("l", &token),
            Ok((signer.request_code("l", &key), expires))
        );
        assert_eq!(
            signer.read_confirm_token("autre", &token).map(|_| ()),
            Err(TokenError::Forged)
        );
        // Another expiry (a byte of it changed), or any byte of the tag.
        let bytes = URL_SAFE_NO_PAD.decode(&token).expect("base64");
        for i in [MEMBER_LEN + 7, bytes.len() - 1, 0] {
            let mut changed = bytes.clone();
            changed[i] ^= 0x10;
            assert_eq!(
                signer
                    .read_confirm_token("l", &URL_SAFE_NO_PAD.encode(&changed))
                    .map(|_| ()),
                Err(TokenError::Forged),
                "byte {i}"
            );
        }
        assert_eq!(
            signer.read_confirm_token("l", "abonnement").map(|_| ()),
            Err(TokenError::Malformed)
        );
    }
}
