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
use crate::errors::AppError;
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
        body: "Knap 200 borgere deltog i samtalen om mad, fællesskab og hjælp i hverdagen. \
               Rapporten viser de vigtigste synspunkter og byrådets svar.",
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

pub async fn load(db: &DatabaseConnection) -> Result<(), AppError> {
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
                active.role = Set(role);
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
        for step in demo.status.path_from_draft() {
            // The published consultation's conversation happens while it is
            // open, so closing it stores the final snapshot with its groups.
            if *step == Status::Closed && slug == ELDERLY_SLUG {
                load_elderly_conversation(db, &admin).await?;
            }
            crate::services::lifecycle::transition(db, &admin, &slug, *step).await?;
        }
    }
    load_ideas(db, &admin, &hash).await?;
    load_dates_and_outcome(db, &admin).await?;
    load_conversation(db, &admin).await
}

/// Deadlines a few days ahead for the open consultations (at noon, Danish
/// time), a contact person, and what came of the published one. Only what is
/// missing is added, so a restart changes nothing.
async fn load_dates_and_outcome(
    db: &DatabaseConnection,
    admin: &CurrentUser,
) -> Result<(), AppError> {
    let open = consultations::list_public(db, &[Status::Open]).await?;
    for (i, c) in open.into_iter().enumerate() {
        if c.closes_at.is_some() {
            continue;
        }
        let day = crate::dates::local_date(super::now()) + chrono::Days::new(3 + 9 * i as u64);
        let deadline = crate::dates::parse_local(&format!("{}T12:00", day.format("%Y-%m-%d")));
        let mut active = c.into_active_model();
        active.closes_at = Set(deadline);
        active.decision_expected_on = Set(Some(day + chrono::Days::new(60)));
        active.contact_name = Set(Some("Mette Holm".into()));
        active.contact_department = Set(Some("Teknik og Miljø, Aarhus Kommune".into()));
        active.contact_email = Set(Some("hoering@example.org".into()));
        active.contact_phone = Set(Some("89 40 00 00".into()));
        active.update(db).await?;
    }
    if let Some(c) = consultations::find_by_slug(db, ELDERLY_SLUG).await?
        && c.status == Status::Published
        && c.outcome_published_at.is_none()
    {
        let form = super::outcome::OutcomeForm {
            outcome_text: "Byrådet besluttede den 4. marts at åbne tre nye spisefællesskaber \
                for ældre i 2027, fordi mange i høringen savnede nogen at spise sammen med. \
                Forslaget om hjemmehjælp om aftenen indgår i budgetforhandlingerne til efteråret."
                .into(),
            outcome_url: "https://example.org/byraadet/referat".into(),
            decided_on: String::new(),
            publish: Some("1".into()),
        };
        super::outcome::save(db, admin, ELDERLY_SLUG, &form).await?;
    }
    Ok(())
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
) -> Result<CurrentUser, AppError> {
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
) -> Result<(), AppError> {
    let Some(cycling) = consultation::Entity::find()
        .filter(consultation::Column::Slug.eq(CYCLING))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    if cycling.status != Status::Open {
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
            .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("demo user {email} missing")))
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

async fn load_conversation(db: &DatabaseConnection, admin: &CurrentUser) -> Result<(), AppError> {
    use crate::entities::statement;
    use crate::opinion_tools::synthetic::SyntheticParams;
    use sea_orm::PaginatorTrait;

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
        seed_conversation(
            db,
            admin,
            &c,
            &DEMO_STATEMENTS,
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
            0,
        )
        .await?;
    }
    // The snapshot exists before the server accepts connections.
    if super::snapshots::latest(db, c.id).await?.is_none() {
        super::snapshots::recompute(
            db,
            c.id,
            super::snapshots::Kind::Warm,
            super::snapshots::LockMode::Wait,
        )
        .await?;
    }
    Ok(())
}

/// The published consultation about elderly care: its own conversation,
/// seeded while it is open.
const ELDERLY_SLUG: &str = "aeldres-hverdag-mad-faellesskab-og-hjaelp";

const ELDERLY_STATEMENTS: [&str; 20] = [
    "Alle ældre bør kunne få varm mad leveret hver dag",
    "Maden på plejehjemmene skal laves i et køkken på stedet",
    "Spisefællesskaber i lokalcentrene er vigtigere end madudbringning",
    "Hjemmehjælpen skal have mere tid hos hver borger",
    "Det er vigtigere, at det er den samme hjemmehjælper, end at hun kommer præcist",
    "Ensomhed er det største problem for ældre i Aarhus",
    "Frivillige besøgsvenner bør have støtte fra kommunen",
    "Velfærdsteknologi som robotstøvsugere frigør tid til omsorg",
    "Skærme og videoopkald kan ikke erstatte et besøg",
    "Ældre bør selv kunne vælge, hvornår de får hjælp",
    "Pårørende skal inddrages mere i planen for hjælpen",
    "Kommunen bør bruge flere penge på forebyggelse og træning",
    "Der skal være flere plejeboliger, også selvom skatten stiger",
    "Private leverandører af hjemmehjælp giver bedre kvalitet",
    "Ældre med anden etnisk baggrund skal kunne få mad, de kender",
    "Busser og flextrafik skal gøre det lettere at komme til aktiviteter",
    "Lokalcentrene bør holde åbent om aftenen og i weekenden",
    "Ældre bør hjælpes til at bruge MitID og digital post",
    "Kommunen bør lytte mere til ældrerådet",
    "Generationsmøder mellem skoler og plejehjem bør være fast praksis",
];

/// Share (in fifths) of the elderly conversation's participants linked to
/// pseudonymous MitID-verified demo accounts, for the report's "who took part".
const LINKED_FIFTHS: usize = 3;

async fn load_elderly_conversation(
    db: &DatabaseConnection,
    admin: &CurrentUser,
) -> Result<(), AppError> {
    use crate::opinion_tools::synthetic::SyntheticParams;
    let Some(c) = consultation::Entity::find()
        .filter(consultation::Column::Slug.eq(ELDERLY_SLUG))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let participants = 180;
    seed_conversation(
        db,
        admin,
        &c,
        &ELDERLY_STATEMENTS,
        &SyntheticParams {
            participants,
            statements: ELDERLY_STATEMENTS.len(),
            votes: participants * 13,
            groups: 3,
            pass_rate: 0.1,
            polarisation: 0.9,
            moderated_fraction: 0.0,
        },
        1947,
        LINKED_FIFTHS,
    )
    .await
}

/// Pseudonymous citizens who logged in with MitID: no email, no password,
/// birth years over ages 18–90, mostly from Aarhus. Returns their ids.
async fn mitid_demo_users(
    db: &impl sea_orm::ConnectionTrait,
    slug: &str,
    count: usize,
) -> Result<Vec<i64>, AppError> {
    use sha2::{Digest, Sha256};
    const OTHER_MUNICIPALITIES: [&str; 4] = ["0101", "0461", "0730", "0851"];
    let year = chrono::Datelike::year(&super::now());
    let at = super::now();
    let hashes: Vec<String> = (0..count)
        .map(|i| hex::encode(Sha256::digest(format!("demo:{slug}:{i}").as_bytes())))
        .collect();
    let rows: Vec<user::ActiveModel> = hashes
        .iter()
        .enumerate()
        .map(|(i, hash)| {
            // 73 ages (18..=90), visited in a scattered order.
            let age = 18 + i32::try_from((i * 29) % 73).unwrap_or(0);
            let municipality = if i % 5 == 4 {
                OTHER_MUNICIPALITIES[(i / 5) % OTHER_MUNICIPALITIES.len()]
            } else {
                "0751"
            };
            user::ActiveModel {
                display_name: Set(format!("Borger {}", i + 1)),
                email: Set(None),
                password_hash: Set(None),
                oidc_subject_hash: Set(Some(hash.clone())),
                role: Set(Role::Citizen),
                locale: Set(Locale::Da.code().to_owned()),
                email_verified: Set(false),
                created_at: Set(at),
                identity_provider: Set(Some("mitid".to_owned())),
                loa: Set(Some("substantial".to_owned())),
                birth_year: Set(Some(year - age)),
                municipality_code: Set(Some(municipality.to_owned())),
                mail_notifications: Set(false),
                ..Default::default()
            }
        })
        .collect();
    for chunk in rows.chunks(200) {
        user::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    let by_hash: std::collections::HashMap<String, i64> = user::Entity::find()
        .filter(user::Column::OidcSubjectHash.is_in(hashes.clone()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|u| Some((u.oidc_subject_hash?, u.id)))
        .collect();
    Ok(hashes
        .iter()
        .filter_map(|h| by_hash.get(h).copied())
        .collect())
}

/// Seed statements plus a generated conversation (one vote per participant
/// and statement, a minute apart, starting three days ago). `linked_fifths`
/// fifths of the participants get a pseudonymous MitID account. Batch
/// inserts in one transaction keep the demo start-up fast.
#[allow(clippy::too_many_arguments)]
async fn seed_conversation(
    db: &DatabaseConnection,
    admin: &CurrentUser,
    c: &consultation::Model,
    texts: &[&str],
    params: &crate::opinion_tools::synthetic::SyntheticParams,
    seed: u64,
    linked_fifths: usize,
) -> Result<(), AppError> {
    use crate::entities::{participant, statement, vote, vote_history};
    use sea_orm::QueryOrder;

    for text in texts {
        super::statements::add_seed(db, admin, &c.slug, text).await?;
    }
    let conversation = crate::opinion_tools::synthetic::generate(params, seed);
    let ids: Vec<i64> = statement::Entity::find()
        .filter(statement::Column::ConsultationId.eq(c.id))
        .order_by_asc(statement::Column::Number)
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let start = super::now() - chrono::Duration::days(3);
    let at = |i: usize| start + chrono::Duration::seconds(i64::try_from(i).unwrap_or(0) * 60);
    // Synthetic participant → the time of their first vote, in order of appearance.
    let mut first_vote: Vec<(i64, chrono::DateTime<chrono::Utc>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, v) in conversation.input.votes.iter().enumerate() {
        if seen.insert(v.participant) {
            first_vote.push((v.participant, at(i)));
        }
    }
    let txn = super::begin_write(db).await?;
    let linked_count = first_vote.len() * linked_fifths / 5;
    let accounts = if linked_count > 0 {
        mitid_demo_users(&txn, &c.slug, linked_count).await?
    } else {
        Vec::new()
    };
    let mut accounts = accounts.into_iter();
    let rows: Vec<participant::ActiveModel> = first_vote
        .iter()
        .enumerate()
        .map(|(i, (external, joined))| participant::ActiveModel {
            consultation_id: Set(c.id),
            // Spread the linked ones over the conversation rather than the first 60 %.
            user_id: Set(if i % 5 < linked_fifths {
                accounts.next()
            } else {
                None
            }),
            // Demo participants are pseudonyms from the generator.
            external_id: Set(Some(*external)),
            created_at: Set(*joined),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        participant::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let participants: std::collections::HashMap<i64, i64> = participant::Entity::find()
        .filter(participant::Column::ConsultationId.eq(c.id))
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|p| Some((p.external_id?, p.id)))
        .collect();
    let mut current = Vec::new();
    let mut history = Vec::new();
    for (i, v) in conversation.input.votes.iter().enumerate() {
        let Some(&statement_id) = usize::try_from(v.statement).ok().and_then(|j| ids.get(j)) else {
            continue;
        };
        let Some(&participant_id) = participants.get(&v.participant) else {
            continue;
        };
        current.push(vote::ActiveModel {
            consultation_id: Set(c.id),
            statement_id: Set(statement_id),
            participant_id: Set(participant_id),
            value: Set(v.value as i16),
            updated_at: Set(at(i)),
            ..Default::default()
        });
        history.push(vote_history::ActiveModel {
            consultation_id: Set(c.id),
            statement_id: Set(statement_id),
            participant_id: Set(participant_id),
            value: Set(v.value as i16),
            cast_at: Set(at(i)),
            ..Default::default()
        });
    }
    // The generator gives one vote per participant and statement.
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
    Ok(())
}
