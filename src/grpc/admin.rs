//! CatalogAdminService handlers: monthly price lists. The interceptor admits `catalog_admin` only.

use tonic::{Request, Response, Status};

use super::pb::catalog_admin_service_server::CatalogAdminService;
use super::{convert, pb};
use crate::domain::catalog::Month;
use crate::domain::error::Violations;
use crate::domain::ids::RequestId;
use crate::domain::{DomainError, FieldViolation};
use crate::import::Source;
use crate::service::catalog::{CatalogService, ImportError};

#[derive(Debug, Clone)]
pub struct AdminApi {
    pub catalog: CatalogService,
}

fn open(
    field: String,
    path: &str,
) -> Result<Source<std::io::BufReader<std::fs::File>>, FieldViolation> {
    std::fs::File::open(path)
        .map(|file| Source {
            name: path.to_owned(),
            reader: std::io::BufReader::new(file),
        })
        .map_err(|e| {
            FieldViolation::new(
                field,
                "UNREADABLE",
                format!("{path} cannot be read by the server: {e}"),
            )
        })
}

fn missing() -> Status {
    DomainError::Internal("a parsed field was missing after validation".into()).into()
}

#[tonic::async_trait]
impl CatalogAdminService for AdminApi {
    async fn import_month(
        &self,
        request: Request<pb::ImportMonthRequest>,
    ) -> Result<Response<pb::ImportMonthResponse>, Status> {
        let pb::ImportMonthRequest {
            request_id,
            month,
            offer_matrix_path,
            price_list_paths,
        } = request.into_inner();
        let mut v = Violations::new();
        v.check(RequestId::parse("request_id", &request_id));
        let month = v.check(Month::parse("month", &month));
        let matrix = match open("offer_matrix_path".into(), &offer_matrix_path) {
            Ok(source) => Some(source),
            Err(violation) => {
                v.push(violation);
                None
            }
        };
        if price_list_paths.is_empty() {
            v.push(FieldViolation::new(
                "price_list_paths",
                "REQUIRED",
                "at least one price list is required",
            ));
        }
        let mut lists = Vec::new();
        for (i, path) in price_list_paths.iter().enumerate() {
            match open(format!("price_list_paths[{i}]"), path) {
                Ok(source) => lists.push(source),
                Err(violation) => v.push(violation),
            }
        }
        v.into_result()?;
        let (Some(month), Some(matrix)) = (month, matrix) else {
            return Err(missing());
        };
        match self.catalog.import_month(month, matrix, lists).await {
            Ok(s) => {
                // The month's diff, computed now for ListMonthChanges and PublishMonth: the
                // publish then only writes it, and subscribers wait for nothing else.
                if let Err(e) = self.catalog.month_changes(month).await {
                    tracing::warn!(error = %e, %month, "computing the imported month's diff failed; it is computed when asked for");
                }
                Ok(Response::new(pb::ImportMonthResponse {
                    month: month.to_string(),
                    products: s.products as i32,
                    skus: s.skus as i32,
                    availabilities: s.availabilities as i32,
                    prices: s.prices as i32,
                }))
            }
            Err(ImportError::Files(report)) => {
                // Every problem, by file, row and column, as a field violation of the file's path.
                let violations = report
                    .problems
                    .iter()
                    .map(|p| {
                        let field = if p.file == offer_matrix_path {
                            "offer_matrix_path".to_owned()
                        } else {
                            price_list_paths
                                .iter()
                                .position(|path| *path == p.file)
                                .map_or_else(
                                    || "price_list_paths".to_owned(),
                                    |i| format!("price_list_paths[{i}]"),
                                )
                        };
                        FieldViolation::new(field, "BAD_FILE", p.to_string())
                    })
                    .collect();
                Err(DomainError::InvalidArgument(violations).into())
            }
            Err(ImportError::Store(e)) => Err(e.into()),
        }
    }

    async fn list_month_changes(
        &self,
        request: Request<pb::ListMonthChangesRequest>,
    ) -> Result<Response<pb::ListMonthChangesResponse>, Status> {
        let pb::ListMonthChangesRequest {
            month,
            page_size,
            page_token,
        } = request.into_inner();
        let month = Month::parse("month", &month)?;
        let page = self
            .catalog
            .list_month_changes(month, page_size, &page_token)
            .await?;
        Ok(Response::new(pb::ListMonthChangesResponse {
            changes: page.items.iter().map(convert::change).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn publish_month(
        &self,
        request: Request<pb::PublishMonthRequest>,
    ) -> Result<Response<pb::PublishMonthResponse>, Status> {
        let pb::PublishMonthRequest { request_id, month } = request.into_inner();
        let mut v = Violations::new();
        v.check(RequestId::parse("request_id", &request_id));
        let month = v.check(Month::parse("month", &month));
        v.into_result()?;
        let month = month.ok_or_else(missing)?;
        let published = self.catalog.publish(month).await?;
        Ok(Response::new(pb::PublishMonthResponse {
            month: month.to_string(),
            first_revision: published.first_revision,
            last_revision: published.last_revision,
        }))
    }
}
