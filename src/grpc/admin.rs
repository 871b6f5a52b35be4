//! CatalogAdminService handlers: monthly price lists. The interceptor admits `catalog_admin` only.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use tonic::{Request, Response, Status, Streaming};

use super::pb::catalog_admin_service_server::CatalogAdminService;
use super::pb::upload_month_request::Part;
use super::{convert, pb};
use crate::domain::catalog::Month;
use crate::domain::error::{Precondition, Violations};
use crate::domain::ids::RequestId;
use crate::domain::{DomainError, FieldViolation};
use crate::import::files::{ImportDir, Spool, SpoolError};
use crate::import::limits::Crossed;
use crate::import::{ImportLimits, Source};
use crate::service::catalog::{CatalogService, ImportError};

/// Files one import may name or upload (a month has one price list per market).
pub const MAX_IMPORT_FILES: usize = 300;
/// Bytes of an uploaded file's name.
pub const MAX_FILE_NAME_BYTES: usize = 255;

#[derive(Debug, Clone)]
pub struct AdminApi {
    pub catalog: CatalogService,
    /// ImportMonth's one folder; none: its path form is off.
    pub import_dir: Option<ImportDir>,
    /// Where uploads are spooled; none: the system's temp folder.
    pub spool_dir: Option<PathBuf>,
    /// The largest chunk of an upload.
    pub max_chunk_bytes: usize,
}

type FileSource = Source<BufReader<File>>;

fn missing() -> Status {
    DomainError::parsed_field_missing().into()
}

fn internal(what: &str, e: impl std::fmt::Display) -> Status {
    DomainError::Internal(format!("{what}: {e}")).into()
}

fn month_too_large(field: &str, limits: &ImportLimits) -> FieldViolation {
    FieldViolation::new(
        field,
        "MONTH_TOO_LARGE",
        format!(
            "the month's files together are larger than the import's limit of {} bytes",
            limits.max_month_bytes
        ),
    )
}

/// Where an upload stopped, as the status the caller gets.
fn spool_refusal(error: SpoolError, limits: &ImportLimits) -> Status {
    let violation = match error {
        SpoolError::Undeclared(index) => FieldViolation::new(
            "chunk.file_index",
            "UNDECLARED_FILE",
            format!("file {index} is not declared in the header's files"),
        ),
        SpoolError::Crossed { index, crossed } => FieldViolation::new(
            format!("files[{index}]"),
            crossed.reason(),
            crossed.describe(limits),
        ),
        SpoolError::MonthTooLarge => month_too_large("files", limits),
        SpoolError::Io(e) => return internal("spooling an upload", e),
    };
    DomainError::InvalidArgument(vec![violation]).into()
}

impl AdminApi {
    /// Imports the month, warms its diff, and answers; file problems become violations of the
    /// field `field_of` names for a source's name.
    async fn import(
        &self,
        month: Month,
        matrix: FileSource,
        lists: Vec<FileSource>,
        field_of: impl Fn(&str) -> String,
    ) -> Result<Response<pb::ImportMonthResponse>, Status> {
        match self.catalog.import_month(month, matrix, lists).await {
            Ok(s) => Ok(Response::new(pb::ImportMonthResponse {
                month: month.to_string(),
                products: s.products as i32,
                skus: s.skus as i32,
                availabilities: s.availabilities as i32,
                prices: s.prices as i32,
            })),
            Err(ImportError::Files(report)) => {
                // Every problem, by file, row and column, as a field violation of its file.
                let violations = report
                    .problems
                    .iter()
                    .map(|p| FieldViolation::new(field_of(&p.file), p.reason, p.to_string()))
                    .collect();
                Err(DomainError::InvalidArgument(violations).into())
            }
            Err(ImportError::Store(e)) => Err(e.into()),
        }
    }
}

/// The header of an upload, checked: the month, and each file's name and kind.
fn parse_header(
    header: pb::UploadMonthHeader,
) -> Result<(Month, Vec<(String, pb::ImportFileKind)>), DomainError> {
    let pb::UploadMonthHeader {
        request_id,
        month,
        files,
    } = header;
    let mut v = Violations::new();
    v.check(RequestId::parse("header.request_id", &request_id));
    let month = v.check(Month::parse("header.month", &month));
    if files.len() > MAX_IMPORT_FILES {
        return Err(DomainError::invalid(
            "header.files",
            "TOO_MANY",
            format!("at most {MAX_IMPORT_FILES} files per upload"),
        ));
    }
    let mut names = HashMap::new();
    let mut kinds = Vec::with_capacity(files.len());
    let (mut matrices, mut lists) = (0, 0);
    for (i, pb::ImportFile { name, kind }) in files.into_iter().enumerate() {
        if name.is_empty() || name.len() > MAX_FILE_NAME_BYTES {
            v.push(FieldViolation::new(
                format!("header.files[{i}].name"),
                if name.is_empty() {
                    "REQUIRED"
                } else {
                    "TOO_LONG"
                },
                format!("a file needs a name of 1 to {MAX_FILE_NAME_BYTES} bytes"),
            ));
        } else if names.insert(name.clone(), i).is_some() {
            v.push(FieldViolation::new(
                format!("header.files[{i}].name"),
                "DUPLICATE",
                "each file of an upload needs a name of its own",
            ));
        }
        let kind = pb::ImportFileKind::try_from(kind).unwrap_or(pb::ImportFileKind::Unspecified);
        match kind {
            pb::ImportFileKind::OfferMatrix => matrices += 1,
            pb::ImportFileKind::PriceList => lists += 1,
            pb::ImportFileKind::Unspecified => v.push(FieldViolation::new(
                format!("header.files[{i}].kind"),
                "REQUIRED",
                "a file is IMPORT_FILE_KIND_OFFER_MATRIX or IMPORT_FILE_KIND_PRICE_LIST",
            )),
        }
        kinds.push((name, kind));
    }
    if matrices != 1 {
        v.push(FieldViolation::new(
            "header.files",
            "ONE_OFFER_MATRIX",
            format!("exactly one offer matrix is required, {matrices} declared"),
        ));
    }
    if lists == 0 {
        v.push(FieldViolation::new(
            "header.files",
            "REQUIRED",
            "at least one price list is required",
        ));
    }
    v.into_result()?;
    let month = month.ok_or_else(DomainError::parsed_field_missing)?;
    Ok((month, kinds))
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
        let Some(dir) = self.import_dir.clone() else {
            return Err(DomainError::FailedPrecondition {
                message: "importing by server path is off on this server: send the files with UploadMonth, or set import_dir".into(),
                violations: vec![Precondition {
                    code: "PATH_IMPORTS_OFF".into(),
                    subject: "settings/import_dir".into(),
                    description: "ImportMonth reads only under the server's import_dir, which is not set; use UploadMonth".into(),
                }],
            }
            .into());
        };
        if price_list_paths.len() >= MAX_IMPORT_FILES {
            return Err(DomainError::invalid(
                "price_list_paths",
                "TOO_MANY",
                format!("at most {} price lists per import", MAX_IMPORT_FILES - 1),
            )
            .into());
        }
        let mut v = Violations::new();
        v.check(RequestId::parse("request_id", &request_id));
        let month = v.check(Month::parse("month", &month));
        if price_list_paths.is_empty() {
            v.push(FieldViolation::new(
                "price_list_paths",
                "REQUIRED",
                "at least one price list is required",
            ));
        }
        let limits = self.catalog.import_limits();
        // Opening is blocking I/O: off the async workers. Each source is named by its field.
        let fields: Vec<(String, String)> =
            std::iter::once(("offer_matrix_path".to_owned(), offer_matrix_path))
                .chain(
                    price_list_paths
                        .into_iter()
                        .enumerate()
                        .map(|(i, path)| (format!("price_list_paths[{i}]"), path)),
                )
                .collect();
        let opened = tokio::task::spawn_blocking(move || {
            fields
                .into_iter()
                .map(|(field, path)| {
                    let opened = dir
                        .open(&path, &limits)
                        .map(|file| {
                            // A size unknown counts as over the month's cap.
                            let size = file.metadata().map_or(u64::MAX, |m| m.len());
                            (file, size)
                        })
                        .map_err(|refusal| {
                            FieldViolation::new(
                                field.clone(),
                                refusal.reason(),
                                refusal.describe(&limits),
                            )
                        });
                    (field, opened)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| internal("opening import files", e))?;
        let mut sources = Vec::with_capacity(opened.len());
        let mut total: u64 = 0;
        for (field, opened) in opened {
            match opened {
                Ok((file, size)) => {
                    total = total.saturating_add(size);
                    sources.push(Source {
                        name: field,
                        reader: BufReader::new(file),
                    });
                }
                Err(violation) => v.push(violation),
            }
        }
        if total > limits.max_month_bytes {
            v.push(month_too_large("price_list_paths", &limits));
        }
        v.into_result()?;
        let month = month.ok_or_else(missing)?;
        let mut sources = sources.into_iter();
        let matrix = sources.next().ok_or_else(missing)?;
        self.import(month, matrix, sources.collect(), str::to_owned)
            .await
    }

    async fn upload_month(
        &self,
        request: Request<Streaming<pb::UploadMonthRequest>>,
    ) -> Result<Response<pb::ImportMonthResponse>, Status> {
        let mut stream = request.into_inner();
        let Some(Part::Header(header)) = stream.message().await?.and_then(|m| m.part) else {
            return Err(DomainError::invalid(
                "header",
                "REQUIRED",
                "the first message of an upload is its header (request_id, month, files)",
            )
            .into());
        };
        let (month, files) = parse_header(header)?;
        let limits = self.catalog.import_limits();
        let mut spool = Spool::create(self.spool_dir.clone(), files.len(), &limits)
            .await
            .map_err(|e| spool_refusal(e, &limits))?;
        // Each chunk is measured before it is written: the first cap crossed ends the call.
        while let Some(message) = stream.message().await? {
            match message.part {
                Some(Part::Chunk(pb::UploadMonthChunk { file_index, data })) => {
                    if data.len() > self.max_chunk_bytes {
                        return Err(DomainError::invalid(
                            "chunk.data",
                            Crossed::File.reason(),
                            format!("a chunk holds at most {} bytes", self.max_chunk_bytes),
                        )
                        .into());
                    }
                    spool
                        .append(file_index, &data)
                        .await
                        .map_err(|e| spool_refusal(e, &limits))?;
                }
                Some(Part::Header(_)) => {
                    return Err(DomainError::invalid(
                        "header",
                        "DUPLICATE",
                        "only the first message of an upload is a header",
                    )
                    .into());
                }
                None => {
                    return Err(DomainError::invalid(
                        "part",
                        "REQUIRED",
                        "each message carries a header or a chunk",
                    )
                    .into());
                }
            }
        }
        let spooled = spool
            .finish()
            .await
            .map_err(|e| spool_refusal(e, &limits))?;
        let mut matrix = None;
        let mut lists = Vec::new();
        let mut fields = HashMap::new();
        for (i, ((name, kind), file)) in files.into_iter().zip(spooled).enumerate() {
            fields.insert(name.clone(), format!("files[{i}]"));
            let source = Source {
                name,
                reader: BufReader::new(file),
            };
            match kind {
                pb::ImportFileKind::OfferMatrix => matrix = Some(source),
                _ => lists.push(source),
            }
        }
        let matrix = matrix.ok_or_else(missing)?;
        self.import(month, matrix, lists, |name| {
            fields
                .get(name)
                .cloned()
                .unwrap_or_else(|| "files".to_owned())
        })
        .await
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
