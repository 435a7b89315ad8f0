//! `nextToken` / `maxResults` paging shared by every List operation.
//! Depends only on the AWS error shape.

use crate::wire::error::ApiError;

/// Returns the page of `items` starting at `next_token` with at most `max_results` (default and
/// maximum 100) entries, and the token of the next page.
pub fn page<T>(
    items: Vec<T>,
    next_token: Option<&str>,
    max_results: Option<i64>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = match max_results {
        None => 100,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::InvalidInput(format!(
                "Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have \
                 value between 1 and 100"
            )));
        }
    };
    let start = match next_token {
        None | Some("") => 0,
        Some(token) => token
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ApiError::InvalidNextToken(format!("Invalid next token: {token}")))?,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| format!("page-{end}"));
    let page = items.into_iter().skip(start).take(end - start).collect();
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_the_whole_list() {
        let items: Vec<u32> = (0..7).collect();
        let (p1, t1) = page(items.clone(), None, Some(3)).expect("page 1");
        assert_eq!(p1, vec![0, 1, 2]);
        let (p2, t2) = page(items.clone(), t1.as_deref(), Some(3)).expect("page 2");
        assert_eq!(p2, vec![3, 4, 5]);
        let (p3, t3) = page(items.clone(), t2.as_deref(), Some(3)).expect("page 3");
        assert_eq!(p3, vec![6]);
        assert!(t3.is_none());
        assert!(page(items.clone(), Some("bogus"), None).is_err());
        assert!(page(items, None, Some(0)).is_err());
    }
}
