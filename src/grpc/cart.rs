//! CartService handlers.

use tonic::{Request, Response, Status};

use super::pb::cart_service_server::CartService;
use super::{caller, convert, parse_uuid, pb};
use crate::domain::DomainError;
use crate::domain::cart::{CartLine, LineChange};
use crate::domain::error::Violations;
use crate::domain::ids::{CartId, CustomerId, RequestId};
use crate::service::carts::CartService as Carts;

#[derive(Debug, Clone)]
pub struct CartApi {
    pub carts: Carts,
}

fn optional(etag: &str) -> Option<&str> {
    (!etag.is_empty()).then_some(etag)
}

/// Parses the fields every line change carries.
pub(super) fn change_target(
    request_id: &str,
    cart_id: &str,
) -> Result<(RequestId, CartId), DomainError> {
    let mut v = Violations::new();
    let request_id = v.check(RequestId::parse("request_id", request_id));
    let cart_id = v.check(CartId::parse("cart_id", cart_id));
    v.into_result()?;
    match (request_id, cart_id) {
        (Some(r), Some(c)) => Ok((r, c)),
        _ => Err(DomainError::parsed_field_missing()),
    }
}

/// Parses a CreateCart request: the line cap first, then every field.
pub(super) fn parse_create(
    request: pb::CreateCartRequest,
) -> Result<(RequestId, CustomerId, Vec<crate::domain::cart::LineInput>), DomainError> {
    let pb::CreateCartRequest {
        request_id,
        customer_id,
        lines,
    } = request;
    // The line cap comes before any line is parsed: 60,000 lines cost a count, not a parse.
    super::check_count("lines", lines.len(), crate::domain::cart::MAX_LINES)?;
    let mut v = Violations::new();
    let request_id = v.check(RequestId::parse("request_id", &request_id));
    let customer = v.check(CustomerId::parse("customer_id", &customer_id));
    let inputs: Vec<_> = lines
        .into_iter()
        .enumerate()
        .filter_map(|(i, line)| v.check(convert::line_input(&format!("lines[{i}]"), line)))
        .collect();
    v.into_result()?;
    match (request_id, customer) {
        (Some(request_id), Some(customer)) => Ok((request_id, customer, inputs)),
        _ => Err(DomainError::parsed_field_missing()),
    }
}

impl CartApi {
    /// Applies a line change and answers with the reviewed cart.
    async fn change(
        &self,
        caller: &crate::domain::customer::Caller,
        request_id: &RequestId,
        cart_id: CartId,
        etag: &str,
        change: LineChange,
    ) -> Result<pb::Cart, Status> {
        let cart = self
            .carts
            .change(caller, request_id, cart_id, optional(etag), change)
            .await?;
        Ok(convert::cart(&cart))
    }
}

#[tonic::async_trait]
impl CartService for CartApi {
    async fn create_cart(
        &self,
        request: Request<pb::CreateCartRequest>,
    ) -> Result<Response<pb::CreateCartResponse>, Status> {
        let caller = caller(&request)?;
        let (request_id, customer, inputs) = parse_create(request.into_inner())?;
        let cart = self
            .carts
            .create(&caller, &request_id, customer, inputs)
            .await?;
        Ok(Response::new(pb::CreateCartResponse {
            cart: Some(convert::cart(&cart)),
        }))
    }

    async fn get_cart(
        &self,
        request: Request<pb::GetCartRequest>,
    ) -> Result<Response<pb::GetCartResponse>, Status> {
        let caller = caller(&request)?;
        let pb::GetCartRequest { cart_id } = request.into_inner();
        let id = CartId::parse("cart_id", &cart_id)?;
        let cart = self.carts.get(&caller, id).await?;
        Ok(Response::new(pb::GetCartResponse {
            cart: Some(convert::cart(&cart)),
        }))
    }

    async fn list_carts(
        &self,
        request: Request<pb::ListCartsRequest>,
    ) -> Result<Response<pb::ListCartsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListCartsRequest {
            customer_id,
            page_size,
            page_token,
        } = request.into_inner();
        let customer = CustomerId::parse("customer_id", &customer_id)?;
        let page = self
            .carts
            .list(&caller, customer, page_size, &page_token)
            .await?;
        Ok(Response::new(pb::ListCartsResponse {
            carts: page.items.iter().map(convert::cart).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn delete_cart(
        &self,
        request: Request<pb::DeleteCartRequest>,
    ) -> Result<Response<pb::DeleteCartResponse>, Status> {
        let caller = caller(&request)?;
        let pb::DeleteCartRequest {
            request_id,
            cart_id,
            etag,
        } = request.into_inner();
        let (request_id, cart_id) = change_target(&request_id, &cart_id)?;
        self.carts
            .delete(&caller, &request_id, cart_id, optional(&etag))
            .await?;
        Ok(Response::new(pb::DeleteCartResponse {}))
    }

    async fn add_cart_line(
        &self,
        request: Request<pb::AddCartLineRequest>,
    ) -> Result<Response<pb::AddCartLineResponse>, Status> {
        let caller = caller(&request)?;
        let pb::AddCartLineRequest {
            request_id,
            cart_id,
            etag,
            line,
        } = request.into_inner();
        let mut v = Violations::new();
        let target = v.check(change_target(&request_id, &cart_id));
        let input = match line {
            Some(line) => v.check(convert::line_input("line", line)),
            None => {
                v.push(crate::domain::FieldViolation::new(
                    "line",
                    "REQUIRED",
                    "line is required",
                ));
                None
            }
        };
        v.into_result()?;
        let (Some((request_id, cart_id)), Some(input)) = (target, input) else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let line = CartLine {
            id: uuid::Uuid::now_v7(),
            input,
        };
        let cart = self
            .change(&caller, &request_id, cart_id, &etag, LineChange::Add(line))
            .await?;
        Ok(Response::new(pb::AddCartLineResponse { cart: Some(cart) }))
    }

    async fn update_cart_line(
        &self,
        request: Request<pb::UpdateCartLineRequest>,
    ) -> Result<Response<pb::UpdateCartLineResponse>, Status> {
        let caller = caller(&request)?;
        let pb::UpdateCartLineRequest {
            request_id,
            cart_id,
            line_id,
            etag,
            line,
        } = request.into_inner();
        let mut v = Violations::new();
        let target = v.check(change_target(&request_id, &cart_id));
        let line_id = v.check(parse_uuid("line_id", &line_id));
        let input = match line {
            Some(line) => v.check(convert::line_input("line", line)),
            None => {
                v.push(crate::domain::FieldViolation::new(
                    "line",
                    "REQUIRED",
                    "line is required",
                ));
                None
            }
        };
        v.into_result()?;
        let (Some((request_id, cart_id)), Some(line_id), Some(input)) = (target, line_id, input)
        else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let cart = self
            .change(
                &caller,
                &request_id,
                cart_id,
                &etag,
                LineChange::Update(CartLine { id: line_id, input }),
            )
            .await?;
        Ok(Response::new(pb::UpdateCartLineResponse {
            cart: Some(cart),
        }))
    }

    async fn remove_cart_line(
        &self,
        request: Request<pb::RemoveCartLineRequest>,
    ) -> Result<Response<pb::RemoveCartLineResponse>, Status> {
        let caller = caller(&request)?;
        let pb::RemoveCartLineRequest {
            request_id,
            cart_id,
            line_id,
            etag,
        } = request.into_inner();
        let mut v = Violations::new();
        let target = v.check(change_target(&request_id, &cart_id));
        let line_id = v.check(parse_uuid("line_id", &line_id));
        v.into_result()?;
        let (Some((request_id, cart_id)), Some(line_id)) = (target, line_id) else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let cart = self
            .change(
                &caller,
                &request_id,
                cart_id,
                &etag,
                LineChange::Remove(line_id),
            )
            .await?;
        Ok(Response::new(pb::RemoveCartLineResponse {
            cart: Some(cart),
        }))
    }

    async fn checkout(
        &self,
        request: Request<pb::CheckoutRequest>,
    ) -> Result<Response<pb::CheckoutResponse>, Status> {
        let caller = caller(&request)?;
        let pb::CheckoutRequest {
            request_id,
            cart_id,
            etag,
        } = request.into_inner();
        let mut v = Violations::new();
        let target = v.check(change_target(&request_id, &cart_id));
        if etag.is_empty() {
            v.push(crate::domain::FieldViolation::new(
                "etag",
                "REQUIRED",
                "etag is required: check out the cart as reviewed",
            ));
        }
        v.into_result()?;
        let Some((request_id, cart_id)) = target else {
            return Err(DomainError::parsed_field_missing().into());
        };
        let order = self
            .carts
            .checkout(&caller, &request_id, cart_id, &etag)
            .await?;
        Ok(Response::new(pb::CheckoutResponse {
            order: Some(convert::order(&order)),
        }))
    }
}
