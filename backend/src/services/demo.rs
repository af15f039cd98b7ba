//! Danish demo content for `samskab serve --demo`: four users (one per role)
//! and consultations in every public state plus a draft. Loading is idempotent,
//! so restarting with `--demo` changes nothing.

use sea_orm::ActiveModelTrait;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, Set};

use crate::auth::session::CurrentUser;
use crate::auth::{Role, password};
use crate::entities::{consultation, user};
use crate::errors::ServiceError;
use crate::i18n::Locale;

use super::consultations::{self, ConsultationForm, Status};

/// Only ever used in demo mode; printed at start-up.
pub const DEMO_PASSWORD: &str = "demo-password";

pub const DEMO_USERS: [(&str, &str, Role); 4] = [
    ("borger@example.org", "Birgitte Borger", Role::Citizen),
    ("moderator@example.org", "Mads Moderator", Role::Moderator),
    ("admin@example.org", "Anne Admin", Role::Admin),
    ("politiker@example.org", "Per Politiker", Role::Politician),
];

struct DemoConsultation {
    title: &'static str,
    summary: &'static str,
    body: &'static str,
    categories: &'static str,
    status: Status,
}

const DEMO_CONSULTATIONS: [DemoConsultation; 5] = [
    DemoConsultation {
        title: "Sikre cykelruter til skole i Aarhus Vest",
        summary: "Hvor føler børn og forældre sig utrygge på cyklen? Kom med forslag til \
                  sikrere skoleveje i Hasle, Gellerup og Brabrand.",
        body: "Aarhus Kommune vil gøre det **trygt for alle børn** at cykle til skole.\n\n\
               Vi vil gerne høre fra dig:\n\n\
               - Hvilke kryds og strækninger er farlige?\n\
               - Hvad skal der til, før dit barn må cykle alene?\n\n\
               Forslagene indgår i trafikplanen for 2027.",
        categories: "Kryds\nCykelstier\nBelysning",
        status: Status::Open,
    },
    DemoConsultation {
        title: "Fremtidens bibliotek i Lystrup",
        summary: "Skal biblioteket være åbent om aftenen, have værksted, café eller mere plads \
                  til lektiehjælp? Sig din mening.",
        body: "Lystrup Bibliotek skal moderniseres. Vi vil gerne vide, hvad du bruger \
               biblioteket til i dag, og hvad der ville få dig til at komme oftere.",
        categories: "Åbningstider\nAktiviteter\nIndretning",
        status: Status::Open,
    },
    DemoConsultation {
        title: "Grønne tage og regnvand på Aarhus Ø",
        summary: "Høringen om klimatilpasning på Aarhus Ø er afsluttet. Tak for de mange \
                  bidrag — vi arbejder nu på rapporten.",
        body: "Høringen kørte i seks uger. Resultaterne bliver fremlagt for Teknisk Udvalg.",
        categories: "Klima\nByrum",
        status: Status::Closed,
    },
    DemoConsultation {
        title: "Ældres hverdag: mad, fællesskab og hjælp",
        summary: "Rapporten fra borgerdialogen om ældreområdet er offentliggjort. Se, hvad \
                  borgerne var enige og uenige om.",
        body: "Over 600 borgere deltog. Rapporten viser de vigtigste synspunkter og \
               byrådets svar.",
        categories: "Mad\nFællesskab\nHjemmehjælp",
        status: Status::Published,
    },
    DemoConsultation {
        title: "Ny skatepark ved Ceres Byen",
        summary: "Udkast: borgerinddragelse om en ny skatepark. Ikke offentlig endnu.",
        body: "Udkast til høringstekst.",
        categories: "",
        status: Status::Draft,
    },
];

pub async fn load(db: &DatabaseConnection) -> Result<(), ServiceError> {
    let hash = password::hash_blocking(DEMO_PASSWORD.to_owned()).await?;
    let mut admin = None;
    for (email, name, role) in DEMO_USERS {
        let existing = user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(db)
            .await?;
        let model = match existing {
            Some(u) => {
                // Demo mode promises this password; make it true again.
                let mut active = u.into_active_model();
                active.password_hash = Set(Some(hash.clone()));
                active.role = Set(role.as_str().to_owned());
                active.deleted_at = Set(None);
                active.update(db).await?
            }
            None => super::users::create(db, name, email, &hash, role, Locale::Da, true).await?,
        };
        if role == Role::Admin {
            admin = Some(CurrentUser::from_model(&model));
        }
    }
    let admin = admin.ok_or_else(|| anyhow::anyhow!("demo admin missing"))?;
    for demo in DEMO_CONSULTATIONS {
        let slug = consultations::slugify(demo.title);
        let exists = consultation::Entity::find()
            .filter(consultation::Column::Slug.eq(&slug))
            .one(db)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let form = ConsultationForm {
            title: demo.title.into(),
            summary: demo.summary.into(),
            body: demo.body.into(),
            categories: demo.categories.into(),
            accepts_ideas: Some("on".into()),
            has_conversation: Some("on".into()),
            ..Default::default()
        };
        consultations::create(db, &admin, &form).await?;
        let path: &[Status] = match demo.status {
            Status::Draft => &[],
            Status::Open => &[Status::Open],
            Status::Closed => &[Status::Open, Status::Closed],
            Status::Published => &[Status::Open, Status::Closed, Status::Published],
            Status::Archived => &[Status::Open, Status::Closed, Status::Archived],
        };
        for step in path {
            consultations::transition(db, &admin, &slug, *step).await?;
        }
    }
    Ok(())
}
