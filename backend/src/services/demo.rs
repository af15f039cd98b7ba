//! Danish demo content for `samskab serve --demo`: four users (one per role)
//! and consultations in every public state plus a draft, and in the open cycling
//! consultation citizens' ideas with supports, comments and official answers.
//! Loading is idempotent,
//! so restarting with `--demo` changes nothing.

use sea_orm::ActiveModelTrait;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, Set};

use crate::auth::session::CurrentUser;
use crate::auth::{Role, password};
use crate::entities::{consultation, idea, user};
use crate::errors::ServiceError;
use crate::i18n::Locale;

use super::comments;
use super::consultations::{self, ConsultationForm, Status};
use super::ideas::{self, IdeaForm, IdeaStatus};

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
    load_ideas(db, &admin, &hash).await?;
    load_conversation(db, &admin).await
}

/// More citizens, so the demo ideas have supporters and a conversation.
pub const DEMO_CITIZENS: [(&str, &str); 3] = [
    ("karen@example.org", "Karen Jensen"),
    ("ali@example.org", "Ali Hassan"),
    ("mette@example.org", "Mette Sørensen"),
];

struct DemoIdea {
    author: &'static str,
    title: &'static str,
    body: &'static str,
    category: &'static str,
    place: &'static str,
    supporters: &'static [&'static str],
    /// (author, text, reply to the comment at this index)
    comments: &'static [(&'static str, &'static str, Option<usize>)],
    /// Staff steps with the official response.
    steps: &'static [(IdeaStatus, &'static str)],
}

const CYCLING: &str = "sikre-cykelruter-til-skole-i-aarhus-vest";

const DEMO_IDEAS: [DemoIdea; 4] = [
    DemoIdea {
        author: "borger@example.org",
        title: "Cykelsluse i krydset Silkeborgvej/Ringvej Vest",
        body: "Om morgenen holder mange skolebørn for rødt midt i svingbanerne. En **cykelsluse** \
               og eget grønt lys for cyklister ville gøre krydset langt mere trygt.",
        category: "Kryds",
        place: "Silkeborgvej ved Ringvej Vest",
        supporters: &["karen@example.org", "ali@example.org", "mette@example.org"],
        comments: &[
            (
                "karen@example.org",
                "Enig! Min søn på 11 tør ikke cykle der alene.",
                None,
            ),
            (
                "borger@example.org",
                "Tak, Karen. Det er præcis derfor, jeg skrev forslaget.",
                Some(0),
            ),
        ],
        steps: &[
            (
                IdeaStatus::UnderReview,
                "Teknik og Miljø har sat en trafiktælling i gang i krydset i uge 9.",
            ),
            (
                IdeaStatus::Accepted,
                "Byrådet har vedtaget en cykelsluse og forskudt grønt lys. Anlægget sker i \
                 sommerferien 2027, så det er klar til skolestart.",
            ),
        ],
    },
    DemoIdea {
        author: "karen@example.org",
        title: "Bedre belysning på stien gennem Gellerupparken",
        body: "Stien fra Dortesvej til Tousgårdsskolen er meget mørk fra november til februar. \
               Flere forældre lader derfor børnene tage bussen i stedet for cyklen.",
        category: "Belysning",
        place: "Stien mellem Dortesvej og Tousgårdsskolen",
        supporters: &["borger@example.org", "ali@example.org"],
        comments: &[(
            "ali@example.org",
            "Lamperne ved legepladsen har også været slukket i flere uger.",
            None,
        )],
        steps: &[(
            IdeaStatus::UnderReview,
            "Vi undersøger, om stien kan få LED-belysning med bevægelsessensor i 2027.",
        )],
    },
    DemoIdea {
        author: "ali@example.org",
        title: "Sammenhængende cykelsti langs Hasle Ringvej",
        body: "Cykelstien stopper ved Hasle Torv, og resten af vejen til skolen skal man cykle \
               på kørebanen sammen med lastbiler. Forlæng stien helt frem til skolen.",
        category: "Cykelstier",
        place: "Hasle Ringvej",
        supporters: &["mette@example.org"],
        comments: &[],
        steps: &[],
    },
    DemoIdea {
        author: "mette@example.org",
        title: "Gågade på Brabrandvej om morgenen",
        body: "Luk Brabrandvej for biler mellem kl. 7.30 og 8.15 på skoledage.",
        category: "Kryds",
        place: "Brabrandvej",
        supporters: &[],
        comments: &[],
        steps: &[(
            IdeaStatus::Rejected,
            "Brabrandvej er udrykningsvej for Beredskabet og kan ikke lukkes. I stedet \
             etableres et hævet fodgængerfelt ved skolen.",
        )],
    },
];

async fn demo_user(
    db: &DatabaseConnection,
    email: &str,
    name: &str,
    hash: &str,
) -> Result<CurrentUser, ServiceError> {
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?;
    let model = match existing {
        Some(u) => u,
        None => {
            super::users::create(db, name, email, hash, Role::Citizen, Locale::Da, true).await?
        }
    };
    Ok(CurrentUser::from_model(&model))
}

/// Ideas with supports, comments and official answers in the open cycling
/// consultation. An idea whose title exists already is left alone.
async fn load_ideas(
    db: &DatabaseConnection,
    admin: &CurrentUser,
    hash: &str,
) -> Result<(), ServiceError> {
    let Some(cycling) = consultation::Entity::find()
        .filter(consultation::Column::Slug.eq(CYCLING))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    if consultations::status(&cycling) != Status::Open {
        return Ok(());
    }
    let mut people = std::collections::HashMap::new();
    for (email, name, _) in DEMO_USERS.iter().filter(|u| u.2 == Role::Citizen) {
        people.insert(*email, demo_user(db, email, name, hash).await?);
    }
    for (email, name) in DEMO_CITIZENS {
        people.insert(email, demo_user(db, email, name, hash).await?);
    }
    let person = |email: &str| {
        people
            .get(email)
            .cloned()
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("demo user {email} missing")))
    };
    for demo in DEMO_IDEAS {
        let exists = idea::Entity::find()
            .filter(idea::Column::ConsultationId.eq(cycling.id))
            .filter(idea::Column::Title.eq(demo.title))
            .one(db)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let form = IdeaForm {
            title: demo.title.into(),
            body: demo.body.into(),
            category: demo.category.into(),
            place: demo.place.into(),
        };
        let created = ideas::create(db, &person(demo.author)?, CYCLING, &form).await?;
        for supporter in demo.supporters {
            ideas::support(db, &person(supporter)?, created.id).await?;
        }
        let mut comment_ids: Vec<i64> = Vec::new();
        for (author, text, reply_to) in demo.comments {
            let parent = reply_to.and_then(|i| comment_ids.get(i).copied());
            let c = comments::create(db, &person(author)?, created.id, parent, text).await?;
            comment_ids.push(c.id);
        }
        for (to, response) in demo.steps {
            ideas::change_status(db, admin, created.id, *to, response).await?;
        }
    }
    Ok(())
}

/// The demo conversation of the open cycle-route consultation: Danish seed
/// statements and ~150 synthetic participants from the engine's seeded
/// generator, so the groups and the voting page have something to show.
const DEMO_STATEMENTS: [&str; 20] = [
    "Der skal være en sammenhængende cykelsti langs Silkeborgvej",
    "Biler bør højst køre 30 km/t i nærheden af skolerne",
    "Krydset ved Hasle Torv er for farligt for børn på cykel",
    "Kommunen bør lukke vejene ved skolerne for biler om morgenen",
    "Forældre, der kører børn i skole, skaber selv utrygheden",
    "Der mangler belysning på stierne gennem Gellerupparken",
    "Cykelstier bør adskilles fra fortovet med en kantsten",
    "Skolepatruljer gør mere for trygheden end nye stier",
    "Parkering ved skolerne bør flyttes længere væk fra indgangen",
    "Børn under 10 år bør ikke cykle alene i myldretiden",
    "Pengene er bedre brugt på busser end på cykelstier",
    "Der bør være cykeltræning i alle 2. klasser",
    "Lastbiler bør ikke køre gennem boligområderne før kl. 9",
    "Fodgængerfelter skal have lysregulering ved alle skoler",
    "Buskadser ved vejkryds skal klippes, så børn kan ses",
    "Der bør være overdækket cykelparkering ved alle skoler",
    "Hastighedsdæmpning med bump er bedre end skilte",
    "Brabrandstien skal ryddes for sne og blade tidligere om morgenen",
    "Kommunen bør lytte mere til børnenes egne forslag",
    "Nye cykelstier må ikke gå ud over grønne områder",
];

const DEMO_CONVERSATION_SLUG: &str = "sikre-cykelruter-til-skole-i-aarhus-vest";

async fn load_conversation(
    db: &DatabaseConnection,
    admin: &CurrentUser,
) -> Result<(), ServiceError> {
    use crate::entities::{participant, statement, vote, vote_history};
    use crate::opinion::synthetic::{self, SyntheticParams};
    use sea_orm::TransactionTrait;
    use sea_orm::{PaginatorTrait, QueryOrder};

    let Some(c) = consultation::Entity::find()
        .filter(consultation::Column::Slug.eq(DEMO_CONVERSATION_SLUG))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let has_statements = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .count(db)
        .await?
        > 0;
    if !has_statements {
        for text in DEMO_STATEMENTS {
            super::statements::add_seed(db, admin, DEMO_CONVERSATION_SLUG, text).await?;
        }
        let conversation = synthetic::generate(
            &SyntheticParams {
                participants: 150,
                statements: DEMO_STATEMENTS.len(),
                votes: 150 * 12,
                groups: 3,
                pass_rate: 0.12,
                polarisation: 0.85,
                moderated_fraction: 0.0,
            },
            2026,
        );
        let ids: Vec<i64> = statement::Entity::find()
            .filter(statement::Column::ConsultationId.eq(c.id))
            .order_by_asc(statement::Column::Number)
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut participants = std::collections::BTreeMap::new();
        let mut current = Vec::new();
        let mut history = Vec::new();
        let start = super::now() - chrono::Duration::days(3);
        for (i, v) in conversation.input.votes.iter().enumerate() {
            let Some(&statement_id) = usize::try_from(v.statement).ok().and_then(|j| ids.get(j))
            else {
                continue;
            };
            let participant_id = match participants.get(&v.participant) {
                Some(&id) => id,
                None => {
                    let row = participant::ActiveModel {
                        consultation_id: Set(c.id),
                        // Demo participants are pseudonyms without accounts.
                        external_id: Set(Some(v.participant)),
                        created_at: Set(start),
                        ..Default::default()
                    }
                    .insert(db)
                    .await?;
                    participants.insert(v.participant, row.id);
                    row.id
                }
            };
            let at = start + chrono::Duration::seconds(i64::try_from(i).unwrap_or(0) * 60);
            current.push(vote::ActiveModel {
                consultation_id: Set(c.id),
                statement_id: Set(statement_id),
                participant_id: Set(participant_id),
                value: Set(v.value as i16),
                updated_at: Set(at),
                ..Default::default()
            });
            history.push(vote_history::ActiveModel {
                consultation_id: Set(c.id),
                statement_id: Set(statement_id),
                participant_id: Set(participant_id),
                value: Set(v.value as i16),
                cast_at: Set(at),
                ..Default::default()
            });
        }
        // The generator gives one vote per participant and statement.
        let txn = db.begin().await?;
        for chunk in current.chunks(500) {
            vote::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        for chunk in history.chunks(500) {
            vote_history::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    // The snapshot exists before the server accepts connections.
    if super::opinion::latest(db, c.id).await?.is_none() {
        super::opinion::recompute(
            db,
            c.id,
            super::opinion::Kind::Warm,
            super::opinion::LockMode::Wait,
        )
        .await?;
    }
    Ok(())
}
