#!/usr/bin/env python3
"""Regenerate the kitlib demo library in ``kitlib/demo/`` from scratch.

Every file that ``kitlib demo`` loads (see ``kitlib/demo/manifest.json``) is
produced here by real tools, then verified.  The text is original sample
content written for the demo; the cluster, people and companies are fictional.

Usage (the generated files are committed, so this only needs running when the
content changes)::

    apt-get install -y --no-install-recommends ffmpeg libreoffice-writer-nogui \
        libreoffice-impress-nogui fonts-dejavu espeak-ng poppler-utils file
    python3 -m venv /tmp/venv-demo
    /tmp/venv-demo/bin/pip install python-docx python-pptx
    /tmp/venv-demo/bin/python scripts/make_demo_assets.py            # build + verify
    /tmp/venv-demo/bin/python scripts/make_demo_assets.py --verify-only

Tool versions the committed files were built with (Debian 12 "bookworm"):

    ffmpeg 5.1.9 (libx264, native aac, drawtext/libfreetype)
    LibreOffice 7.4.7.2 (soffice --headless --convert-to)
    eSpeak NG 1.51 (voices fr, fr+f3)
    poppler-utils 22.12.0 (pdftotext, verification only)
    file 5.44 (verification only)
    fonts-dejavu 2.37
    Python 3.11, python-docx 1.2.0, python-pptx 1.0.2 (lxml 6, Pillow)

The script prints the versions it actually finds at run time.

Outputs (all small; the whole folder must stay under 2.5 MB):

    guide-reprise-activite.pdf               DOCX (python-docx) -> PDF (LibreOffice)
    protocole-nettoyage-desinfection.docx    python-docx
    plan-continuite-activite-modele.odt      DOCX (python-docx) -> ODT (LibreOffice)
    appel-a-projets-relance-industrielle-2020.md
    reprendre-activite-en-securite.pptx      python-pptx
    workplace-safety-checklist.pdf           DOCX (python-docx) -> PDF (LibreOffice)
    remote-work-policy-template.docx         python-docx
    supply-chain-resilience-after-covid-19.html
    note-interne-organisation-webinaires.md  (staff-only internal note)
    webinaire-reprise-2020-05-14.mp4         ffmpeg lavfi color + drawtext, espeak-ng speech, H.264/AAC, faststart
    webinaire-reprise-2020-05-14.fr.vtt      cue times taken from the synthesised speech
    webinaire-reprise-2020-05-14-slides.pdf  PPTX (python-pptx) -> PDF (LibreOffice Impress)
    manifest.json
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "kitlib" / "demo"
KEEP = {"__init__.py"}  # never deleted when the folder is rebuilt

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

CLUSTER = "Cluster Industrie Avenir"
MAX_TOTAL_BYTES = 2_500_000
MAX_VIDEO_BYTES = 1_000_000

# --------------------------------------------------------------------------
# Content.  A document is a list of blocks:
#   ("title", str) ("subtitle", str) ("h1", str) ("h2", str) ("p", str)
#   ("ul", [str]) ("ol", [str]) ("check", [str]) ("table", [[hdr...], [row...], ...])
#   ("note", str)   -- highlighted box / italic paragraph
# --------------------------------------------------------------------------

GUIDE_REPRISE = [
    ("title", "Guide de reprise d'activité en entreprise"),
    ("subtitle", f"{CLUSTER} — Kit COVID-19 — version du 11 mai 2020"),
    ("note", "Ce guide rassemble les bonnes pratiques partagées par les entreprises, laboratoires et écoles "
             "du cluster lors de la série de webinaires « Bonnes pratiques pour la reprise ». Il ne remplace "
             "ni le protocole national de déconfinement, ni l'avis de votre service de santé au travail : "
             "il aide à les traduire en décisions concrètes, atelier par atelier."),
    ("h1", "1. Préparer la reprise avant le premier jour"),
    ("p", "La reprise se prépare au moins dix jours à l'avance. La première étape consiste à mettre à jour le "
          "document unique d'évaluation des risques professionnels (DUERP) en y intégrant le risque de "
          "transmission du virus : quelles situations de travail imposent une proximité de moins d'un mètre, "
          "quels équipements sont partagés, quels flux de personnes se croisent. Cette analyse doit être menée "
          "avec les managers de proximité et, lorsqu'il existe, avec le comité social et économique (CSE)."),
    ("p", "Pour chaque situation à risque, on recherche d'abord à supprimer l'exposition (télétravail, "
          "réorganisation des horaires), puis à la réduire par des mesures collectives (cloisons, marquage "
          "au sol, ventilation) et seulement en dernier recours par des équipements individuels. Cette "
          "hiérarchie des mesures de prévention reste la règle, même en période d'urgence."),
    ("ul", [
        "Nommer un référent COVID-19 sur chaque site, connu de tous et joignable.",
        "Recenser les salariés pouvant poursuivre en télétravail et ceux dont la présence est indispensable.",
        "Vérifier les stocks de savon, de gel hydroalcoolique, de masques et de produits de nettoyage pour quatre semaines.",
        "Faire contrôler les installations restées à l'arrêt : ventilation, réseaux d'eau (risque légionelle), machines.",
        "Préparer une communication écrite à remettre à chaque salarié avant son retour.",
    ]),
    ("h1", "2. Organiser les espaces et les flux"),
    ("p", "L'objectif est de garantir une distance d'au moins un mètre entre deux personnes, et de limiter le "
          "nombre de contacts. Dans les ateliers, cela passe souvent par un nouveau plan d'implantation : "
          "postes espacés, sens de circulation unique matérialisé au sol, portes maintenues ouvertes lorsque "
          "la sécurité incendie le permet pour éviter de toucher les poignées."),
    ("p", "Les moments de croisement sont les plus risqués : prise de poste, pauses, repas, passage aux "
          "vestiaires. Décaler les horaires d'équipe de quinze minutes suffit souvent à diviser par deux le "
          "nombre de personnes présentes simultanément dans les espaces communs. Une jauge est affichée à "
          "l'entrée de chaque salle de pause, de réunion et de vestiaire."),
    ("table", [
        ["Espace", "Mesure recommandée", "Indicateur de suivi"],
        ["Vestiaires", "Accès par groupes, casiers un sur deux", "Jauge respectée à chaque relève"],
        ["Salle de pause", "Jauge affichée, chaises retirées", "Nombre de places disponibles"],
        ["Quais et réception", "Zone tampon pour les livreurs, documents dématérialisés", "Aucun chauffeur dans les locaux"],
        ["Salles de réunion", "Visioconférence privilégiée, réunions de 30 min max.", "Nombre de réunions présentielles"],
    ]),
    ("h1", "3. Hygiène et nettoyage"),
    ("p", "Le lavage des mains reste la mesure la plus efficace. Des points d'eau ou de gel doivent être "
          "accessibles à l'entrée du site, dans chaque atelier et à proximité des équipements partagés. "
          "Le nettoyage des surfaces fréquemment touchées (poignées, interrupteurs, claviers, commandes de "
          "machines) est planifié plusieurs fois par jour et tracé sur une fiche de suivi ; le protocole "
          "détaillé figure dans le document « Protocole de nettoyage et désinfection des postes de travail » du kit."),
    ("p", "Lorsque la distance ne peut pas être respectée, le port du masque est obligatoire et la durée "
          "d'exposition est réduite au minimum. Les salariés doivent être formés à la pose, au retrait et "
          "à l'élimination des masques : un masque mal porté donne un faux sentiment de sécurité."),
    ("h1", "4. Conduite à tenir face à un cas suspect"),
    ("ol", [
        "Isoler la personne dans une pièce dédiée, en lui faisant porter un masque.",
        "Prévenir le référent COVID-19 et, en cas de signes de gravité, appeler le 15.",
        "Organiser le retour à domicile sans transport en commun et inviter la personne à contacter son médecin.",
        "Identifier les contacts rapprochés sur les sept derniers jours à l'aide des plannings.",
        "Nettoyer puis désinfecter le poste et les zones fréquentées, après aération de la pièce.",
    ]),
    ("h1", "5. Accompagner les équipes"),
    ("p", "Après plusieurs semaines d'arrêt ou de télétravail, le retour sur site suscite des inquiétudes "
          "légitimes. Un accueil de reprise d'une trentaine de minutes, par petits groupes, permet de "
          "présenter les nouvelles règles, de répondre aux questions et de recueillir les suggestions des "
          "opérateurs, qui connaissent mieux que quiconque les situations réelles de travail."),
    ("p", "Les managers de proximité doivent être préparés à repérer les signes de fatigue ou d'anxiété et "
          "à orienter vers le service de santé au travail. Les situations particulières — personnes "
          "vulnérables, salariés en garde d'enfants, aidants — sont traitées au cas par cas, avec l'appui "
          "des ressources humaines."),
    ("h1", "6. Clients, fournisseurs et intervenants extérieurs"),
    ("p", "Les règles du site s'appliquent à toute personne qui y entre. Un protocole d'accueil est transmis "
          "à l'avance aux transporteurs, prestataires et visiteurs ; les plans de prévention des entreprises "
          "extérieures sont mis à jour. Côté approvisionnement, un point hebdomadaire avec les fournisseurs "
          "critiques permet d'anticiper les ruptures plutôt que de les subir."),
    ("h1", "Annexe — calendrier type"),
    ("table", [
        ["Échéance", "Actions"],
        ["J-10", "Mise à jour du DUERP, consultation du CSE, commande des consommables"],
        ["J-5", "Nouveau plan d'implantation, marquage au sol, affichage"],
        ["J-2", "Information écrite des salariés, contrôle des installations"],
        ["J", "Accueil de reprise par petits groupes, distribution des équipements"],
        ["J+7", "Premier retour d'expérience, ajustement des mesures"],
        ["J+30", "Bilan avec le CSE et le service de santé au travail"],
    ]),
]

PROTOCOLE_NETTOYAGE = [
    ("title", "Protocole de nettoyage et désinfection des postes de travail"),
    ("subtitle", f"{CLUSTER} — Kit COVID-19 — fiche pratique n° 2 — mai 2020"),
    ("h1", "1. Objet et champ d'application"),
    ("p", "Ce protocole décrit les opérations de nettoyage et de désinfection à mettre en œuvre sur les postes "
          "de travail, les équipements partagés et les espaces communs, dans le cadre de la prévention de la "
          "transmission du SARS-CoV-2. Il s'applique aux ateliers de production, aux bureaux, aux laboratoires "
          "et aux locaux sociaux. Il est à adapter à chaque site et à valider avec le référent COVID-19."),
    ("p", "Le nettoyage (élimination des salissures) précède toujours la désinfection : un désinfectant "
          "appliqué sur une surface sale perd une grande partie de son efficacité. Pour les surfaces peu "
          "sollicitées, un nettoyage soigneux avec un détergent usuel est suffisant."),
    ("h1", "2. Produits et matériel"),
    ("ul", [
        "Détergent usuel pour le nettoyage des sols et des surfaces.",
        "Désinfectant virucide conforme à la norme EN 14476, ou solution d'eau de Javel diluée à 0,1 % de chlore actif.",
        "Lingettes à usage unique ou bandeaux de lavage changés entre chaque zone.",
        "Gants de ménage ou gants à usage unique, lunettes en cas de risque de projection.",
        "Sacs poubelle dédiés, doublés, pour les déchets de nettoyage.",
    ]),
    ("note", "Ne jamais mélanger deux produits (par exemple eau de Javel et détergent acide) : le mélange peut "
             "dégager des gaz toxiques. Respecter les temps de contact indiqués sur la fiche de données de sécurité."),
    ("h1", "3. Fréquences de nettoyage"),
    ("table", [
        ["Surface ou équipement", "Fréquence", "Réalisé par"],
        ["Poste individuel (plan de travail, clavier, souris)", "En début et fin de poste", "Le salarié"],
        ["Commandes de machines partagées, outillage commun", "À chaque changement d'opérateur", "L'opérateur entrant"],
        ["Poignées de porte, interrupteurs, rampes", "Au moins deux fois par jour", "Équipe d'entretien"],
        ["Sanitaires et vestiaires", "Au moins deux fois par jour", "Équipe d'entretien"],
        ["Salles de pause (tables, machines à café, micro-ondes)", "Après chaque service", "Équipe d'entretien"],
        ["Véhicules de service, chariots élévateurs", "À chaque changement de conducteur", "Le conducteur"],
    ]),
    ("h1", "4. Mode opératoire"),
    ("ol", [
        "Se laver les mains, puis mettre les gants.",
        "Aérer la pièce pendant au moins quinze minutes lorsque c'est possible.",
        "Nettoyer les surfaces du plus propre vers le plus sale et du haut vers le bas, avec le détergent.",
        "Rincer si le produit l'exige, puis laisser sécher.",
        "Appliquer le désinfectant et respecter le temps de contact indiqué par le fabricant.",
        "Jeter les lingettes dans le sac dédié ; retirer les gants sans toucher leur face extérieure.",
        "Se laver à nouveau les mains et renseigner la fiche de suivi.",
    ]),
    ("h1", "5. Cas particulier : après un cas suspect ou confirmé"),
    ("p", "Le poste et les zones fréquentées par la personne sont condamnés et aérés pendant plusieurs heures "
          "avant toute intervention. L'agent d'entretien porte une blouse à usage unique, des gants et un "
          "masque. Le nettoyage est suivi d'une désinfection complète ; les déchets sont placés dans un double "
          "sac fermé, conservé 24 heures avant son élimination avec les ordures ménagères."),
    ("h1", "6. Traçabilité"),
    ("p", "Une fiche de suivi est affichée dans chaque zone. Elle permet au référent de vérifier que les "
          "fréquences sont tenues et sert de support au retour d'expérience hebdomadaire."),
    ("table", [
        ["Date", "Heure", "Zone / équipement", "Produit utilisé", "Nom et visa"],
        ["", "", "", "", ""],
        ["", "", "", "", ""],
        ["", "", "", "", ""],
    ]),
]

PLAN_CONTINUITE = [
    ("title", "Plan de continuité d'activité — modèle"),
    ("subtitle", f"{CLUSTER} — modèle réservé aux adhérents — avril 2020"),
    ("note", "Mode d'emploi : remplacez les éléments entre crochets, supprimez les sections sans objet et "
             "faites valider le plan par la direction. Un plan de continuité d'activité (PCA) n'est utile que "
             "s'il est connu des personnes qui devront l'appliquer : prévoyez une présentation et un exercice."),
    ("h1", "1. Objet du plan"),
    ("p", "Le présent plan décrit l'organisation retenue par [Nom de l'entreprise] pour maintenir ses activités "
          "essentielles en cas de crise sanitaire, d'absentéisme massif ou de rupture d'approvisionnement. "
          "Il précise qui décide, quelles activités sont prioritaires, avec quelles ressources minimales, et "
          "comment l'entreprise revient à un fonctionnement normal."),
    ("h1", "2. Cellule de crise"),
    ("table", [
        ["Rôle", "Titulaire", "Suppléant", "Coordonnées"],
        ["Pilote de la cellule", "[Nom]", "[Nom]", "[Téléphone / courriel]"],
        ["Ressources humaines", "[Nom]", "[Nom]", "[Téléphone / courriel]"],
        ["Production et maintenance", "[Nom]", "[Nom]", "[Téléphone / courriel]"],
        ["Achats et logistique", "[Nom]", "[Nom]", "[Téléphone / courriel]"],
        ["Systèmes d'information", "[Nom]", "[Nom]", "[Téléphone / courriel]"],
        ["Communication", "[Nom]", "[Nom]", "[Téléphone / courriel]"],
    ]),
    ("p", "La cellule se réunit [quotidiennement / deux fois par semaine] pendant la crise, de préférence en "
          "visioconférence. Chaque réunion fait l'objet d'un relevé de décisions daté, diffusé aux managers."),
    ("h1", "3. Activités essentielles"),
    ("p", "Classez vos activités selon leur criticité. La durée maximale d'interruption admissible est le temps "
          "au-delà duquel l'arrêt met en danger l'entreprise, ses clients ou la sécurité des personnes."),
    ("table", [
        ["Activité", "Criticité", "Interruption max. admissible", "Effectif minimal", "Télétravail possible"],
        ["[Production ligne A]", "[Haute]", "[48 h]", "[6 personnes]", "[Non]"],
        ["[Expéditions clients prioritaires]", "[Haute]", "[24 h]", "[2 personnes]", "[Non]"],
        ["[Paie et facturation]", "[Moyenne]", "[5 jours]", "[1 personne]", "[Oui]"],
        ["[Bureau d'études]", "[Basse]", "[15 jours]", "[—]", "[Oui]"],
    ]),
    ("h1", "4. Scénarios et niveaux de réponse"),
    ("ul", [
        "Niveau 1 — vigilance : absentéisme inférieur à 10 %. Mesures d'hygiène renforcées, suivi quotidien.",
        "Niveau 2 — dégradé : absentéisme de 10 à 25 %. Recentrage sur les activités essentielles, polyvalence, report des projets internes.",
        "Niveau 3 — critique : absentéisme supérieur à 25 % ou rupture d'un fournisseur critique. Maintien des seules activités de criticité haute, information des clients.",
    ]),
    ("h1", "5. Ressources critiques"),
    ("p", "Pour chaque activité essentielle, listez les compétences rares (et les personnes capables de les "
          "remplacer), les fournisseurs sans alternative, les équipements et les applications indispensables. "
          "Une matrice de polyvalence à jour est l'outil le plus utile en cas d'absentéisme."),
    ("table", [
        ["Ressource", "Type", "Solution de repli", "Délai de mise en œuvre"],
        ["[Soudeur qualifié]", "[Compétence]", "[Intérim qualifié, salarié formé]", "[1 semaine]"],
        ["[Fournisseur de pièces usinées]", "[Fournisseur]", "[Second fournisseur homologué]", "[3 semaines]"],
        ["[ERP]", "[Application]", "[Accès distant sécurisé]", "[Immédiat]"],
    ]),
    ("h1", "6. Communication"),
    ("p", "Désignez un porte-parole unique. Préparez à l'avance des messages types pour les salariés, les "
          "clients et les fournisseurs, ainsi que la liste des canaux utilisés (messagerie, SMS, affichage). "
          "Les salariés doivent savoir où trouver l'information à jour, y compris depuis leur domicile."),
    ("h1", "7. Retour à la normale et mise à jour"),
    ("p", "La sortie de crise est décidée par la cellule, par étapes. Un retour d'expérience est organisé dans "
          "le mois qui suit ; le plan est mis à jour au moins une fois par an et après chaque activation."),
    ("table", [
        ["Version", "Date", "Auteur", "Modifications"],
        ["1.0", "[JJ/MM/AAAA]", "[Nom]", "Création du plan"],
        ["", "", "", ""],
    ]),
]

CHECKLIST_EN = [
    ("title", "Workplace safety checklist for manufacturing sites"),
    ("subtitle", f"{CLUSTER} — COVID-19 KIT — May 2020"),
    ("note", "Use this checklist during the walk-through before restarting a production site, then weekly. "
             "Tick each item that is in place; anything left unticked needs an owner and a date. It complements, "
             "and does not replace, your own risk assessment and national guidance."),
    ("h1", "1. Before restart"),
    ("check", [
        "The risk assessment has been updated to cover virus transmission, and shared with worker representatives.",
        "A COVID-19 coordinator has been appointed for each shift, and everyone knows who they are.",
        "Ventilation, water systems and machines that were idle have been inspected and tested.",
        "Stocks of soap, hand sanitiser, masks and cleaning products cover at least four weeks.",
        "Every employee has received written information about the new rules before coming back.",
    ]),
    ("h1", "2. Site access and circulation"),
    ("check", [
        "Entrances and exits are separated where possible, with hand-washing or sanitiser at each one.",
        "Floor markings show one-way routes and the 1 m minimum distance in queues.",
        "Shift start times are staggered to avoid crowding at the gate and in changing rooms.",
        "Occupancy limits are displayed at the door of every shared room.",
        "Visitors and drivers receive the site rules in advance; drivers stay in a dedicated zone.",
    ]),
    ("h1", "3. Workstations and production lines"),
    ("check", [
        "Workstations are at least 1 m apart, or separated by screens where they cannot be moved.",
        "Shared tools and machine controls are cleaned at every change of operator.",
        "Tasks requiring two people at close range have been redesigned, shortened or equipped with masks.",
        "Personal protective equipment is individual, labelled and never shared.",
        "Safety-critical maintenance and lock-out/tag-out procedures still work with the reduced staffing.",
    ]),
    ("h1", "4. Shared facilities"),
    ("check", [
        "Changing rooms, canteens and break rooms have occupancy limits and extra cleaning rounds.",
        "Chairs have been removed or marked so that the distance is kept while eating.",
        "Meetings are held remotely or in large rooms, kept short and with windows open.",
        "Toilets are cleaned at least twice a day and always supplied with soap and paper towels.",
    ]),
    ("h1", "5. Suspected case procedure"),
    ("check", [
        "An isolation room is identified and equipped with masks, tissues and a bin.",
        "The coordinator knows the steps: isolate, send home safely, list close contacts, clean the area.",
        "Shift rosters are kept so that close contacts can be identified quickly.",
        "Employees know they must stay at home and inform their manager if they have symptoms.",
    ]),
    ("h1", "6. People and communication"),
    ("check", [
        "Managers have been briefed on how to answer questions and spot signs of stress or fatigue.",
        "Vulnerable employees have been identified confidentially with occupational health.",
        "A weekly feedback slot lets operators report what does not work in practice.",
        "Rules are displayed with pictograms for people who do not read French or English fluently.",
    ]),
    ("table", [
        ["Walk-through date", "Site / area", "Checked by", "Open actions"],
        ["", "", "", ""],
        ["", "", "", ""],
    ]),
]

REMOTE_WORK_EN = [
    ("title", "Remote work policy template"),
    ("subtitle", f"{CLUSTER} — COVID-19 KIT — template, June 2020"),
    ("note", "How to use this template: replace the text in square brackets, delete the options that do not "
             "apply, and consult worker representatives before adoption. Check the result against your "
             "collective agreement and national law; this template is not legal advice."),
    ("h1", "1. Purpose and scope"),
    ("p", "This policy sets out how [Company name] organises remote work, outside exceptional circumstances "
          "such as a lockdown. It applies to all employees whose duties can be performed away from the site, "
          "after [three] months of service, with the agreement of their manager. Production, maintenance and "
          "logistics roles that require a physical presence are outside its scope, although parts of these "
          "roles (training, reporting, planning) may be eligible."),
    ("h1", "2. Eligibility and request"),
    ("p", "Employees request remote work in writing using the form in the appendix. The manager answers "
          "within [15] days; any refusal is explained. The arrangement starts with a trial period of [two] "
          "months, after which either party may end it with [one] month's notice."),
    ("h1", "3. Organisation of working time"),
    ("ul", [
        "Remote work is possible up to [two] days per week, on days agreed with the manager.",
        "Team presence days are set so that every team meets on site at least [once] a week.",
        "Employees remain reachable during the core hours of [9:30–12:00 and 14:00–16:30].",
        "Working time rules are unchanged: breaks, maximum hours and the right to disconnect apply in full.",
    ]),
    ("h1", "4. Equipment and costs"),
    ("p", "[Company name] provides a laptop, a headset and, on request, a second screen. Employees declare "
          "that they have a suitable workspace and a broadband connection. A monthly allowance of [amount] "
          "covers additional costs. Equipment remains company property and must be returned when the "
          "arrangement ends."),
    ("h1", "5. Data protection and security"),
    ("ul", [
        "Company data is accessed only through the VPN and stored on company systems, never on personal devices.",
        "Screens are locked whenever the employee leaves the workspace; confidential calls are taken in private.",
        "Printed documents are kept to a minimum and brought back to the site for shredding.",
        "Any loss, theft or suspected security incident is reported immediately to the IT helpdesk.",
    ]),
    ("h1", "6. Health, safety and well-being"),
    ("p", "Remote workers are covered by the same health and safety rules as on site, and an accident during "
          "working hours at the remote workplace is presumed to be work-related. Managers hold a regular "
          "one-to-one conversation covering workload and isolation. Employees can contact occupational health "
          "or the employee assistance line at [number] at any time."),
    ("h1", "7. Review"),
    ("p", "This policy is reviewed every year with worker representatives, based on an anonymous survey of "
          "employees and managers."),
    ("table", [
        ["Version", "Approved on", "Approved by"],
        ["1.0", "[date]", "[name, role]"],
    ]),
]

APPEL_A_PROJETS_MD = f"""# Appel à projets : relance industrielle 2020

*Actualité du {CLUSTER} — publiée le 15 septembre 2020*

La région et ses partenaires ouvrent un appel à projets **« Relance industrielle 2020 »** destiné aux PME
et ETI industrielles qui souhaitent moderniser leur outil de production, relocaliser une partie de leur
chaîne de valeur ou renforcer la résilience de leurs approvisionnements après la crise sanitaire.

## Ce qui est financé

- investissements de modernisation : automatisation, numérisation des ateliers, efficacité énergétique ;
- projets de relocalisation de production ou de sécurisation d'approvisionnements critiques ;
- projets collaboratifs associant au moins une entreprise et un laboratoire ou une école du territoire ;
- actions de formation liées à ces investissements.

Les dépenses éligibles sont comprises entre 200 000 € et 2 M€ par projet. L'aide prend la forme d'une
subvention pouvant atteindre 30 % des dépenses pour les petites entreprises et 20 % pour les moyennes,
dans le respect des règles européennes d'aides d'État.

## Calendrier

| Étape | Date |
|---|---|
| Ouverture de l'appel | 15 septembre 2020 |
| Webinaire d'information du cluster | 1er octobre 2020, 11 h |
| Date limite de dépôt des dossiers | 16 novembre 2020, 12 h |
| Annonce des lauréats | janvier 2021 |

## Comment le cluster vous accompagne

L'équipe du cluster relit gratuitement les dossiers de ses adhérents avant dépôt, aide à identifier
un partenaire académique pour les projets collaboratifs et organise des rendez-vous individuels de
30 minutes pendant tout le mois d'octobre. Les projets bien préparés sont ceux qui chiffrent
précisément leurs retombées : emplois créés ou maintenus, volumes relocalisés, gains énergétiques.

Pour réserver un créneau ou poser une question, écrivez à l'équipe projets du cluster en précisant
votre secteur d'activité et le montant envisagé.

*Tags : appels-a-projets, relance, financement*
"""

SUPPLY_CHAIN_BLOCKS = [
    ("title", "Supply chain resilience after COVID-19"),
    ("subtitle", f"{CLUSTER} — briefing note — July 2020"),
    ("p", "In March and April 2020 many manufacturers in the cluster discovered that their supply chains were "
          "both longer and more fragile than their purchasing data suggested. Parts ordered from a trusted "
          "tier-one supplier turned out to depend on a single tier-two plant that had closed; freight capacity "
          "vanished overnight; and safety stocks sized for ordinary demand variations lasted days, not weeks. "
          "This note summarises what members learned and what they are changing."),
    ("h1", "1. Map beyond tier one"),
    ("p", "You cannot protect what you cannot see. The first step is to map critical components down to the "
          "second or third tier: who makes the raw material, where, and with what alternatives. Members who "
          "had done this exercise before the crisis reacted in days; the others spent weeks on the phone. "
          "Start with the twenty components whose absence would stop a production line."),
    ("h1", "2. Rethink inventory for critical items"),
    ("p", "Lean inventory remains the right default, but not for every part. For components with a single "
          "source, long lead times or a volatile logistics route, a strategic buffer stock is cheaper than a "
          "line stoppage. Several members now classify parts on two axes — value and supply risk — and set "
          "buffer levels per class instead of one rule for all."),
    ("h1", "3. Qualify second sources early"),
    ("p", "Qualifying a new supplier for a machined or certified part can take months. Doing it during a "
          "crisis is nearly impossible. Dual sourcing does not have to mean splitting volumes evenly: a "
          "second supplier that receives ten percent of orders stays qualified and ready to ramp up."),
    ("h1", "4. Shorten where it makes sense"),
    ("p", "Regional sourcing is not always cheaper, but total cost of ownership — transport, inventory, "
          "quality issues, exposure to disruption — often narrows the gap. The cluster's supplier directory "
          "lists over a hundred local subcontractors with their capabilities and certifications."),
    ("h1", "5. Share information with partners"),
    ("ul", [
        "Agree on a weekly capacity and demand update with critical suppliers during disruptions.",
        "Share forecasts earlier, even when uncertain: a range is more useful than silence.",
        "Set up joint escalation contacts so that problems reach decision-makers quickly.",
        "Review contracts for force majeure clauses and allocation rules before the next crisis.",
    ]),
    ("h1", "Quick self-assessment"),
    ("table", [
        ["Question", "Yes / No"],
        ["Do we know the tier-two suppliers of our 20 most critical components?", ""],
        ["Is there a qualified second source for each single-sourced critical part?", ""],
        ["Are buffer stock levels set per risk class and reviewed quarterly?", ""],
        ["Do we have a named escalation contact at each critical supplier?", ""],
    ]),
]

NOTE_INTERNE_MD = f"""# Note interne : organisation des webinaires « Bonnes pratiques pour la reprise »

*Usage interne — équipe du {CLUSTER} — mise à jour du 20 mai 2020*

## Avant chaque webinaire

- J-10 : valider le thème et les intervenants, envoyer la convention d'intervention.
- J-7 : ouvrir les inscriptions et relayer l'invitation dans la lettre d'information.
- J-2 : répétition technique de 20 minutes avec chaque intervenant (son, partage d'écran).
- J-1 : envoyer le lien de connexion aux inscrits et un rappel aux intervenants.

## Pendant

Un membre de l'équipe anime, un second modère les questions écrites et note celles qui n'ont pas
reçu de réponse. L'enregistrement est lancé après l'accord oral des intervenants.

## Après

- Mise en ligne de l'enregistrement et de la transcription pour les participants sous 48 heures.
- Publication des supports dans le kit COVID-19 après relecture par les intervenants.
- Réponses écrites aux questions restées ouvertes, envoyées avec l'enquête de satisfaction.

Bilan au 20 mai : 6 webinaires, 412 inscrits, 287 participants, note moyenne 4,4 / 5.
"""

# Slides "Reprendre l'activité en sécurité" (standalone PPTX deliverable)
DECK_REPRISE = {
    "title": "Reprendre l'activité en sécurité",
    "subtitle": f"{CLUSTER} — Kit COVID-19 — mai 2020",
    "slides": [
        ("Pourquoi une démarche structurée ?", [
            "Le risque sanitaire s'ajoute aux risques habituels du site",
            "Des décisions rapides, mais tracées et partagées",
            "La confiance des équipes conditionne la reprise",
        ], "Rappeler que la reprise ne se résume pas à distribuer des masques : c'est une démarche de prévention."),
        ("1. Évaluer les risques", [
            "Mettre à jour le DUERP avec le risque de transmission",
            "Identifier les situations à moins d'un mètre",
            "Associer managers de proximité et CSE",
        ], "Insister sur la hiérarchie des mesures : supprimer, réduire collectivement, puis protéger individuellement."),
        ("2. Organiser les espaces", [
            "Plan d'implantation revu, postes espacés",
            "Sens de circulation et marquage au sol",
            "Horaires décalés pour les relèves et les pauses",
            "Jauges affichées dans les espaces communs",
        ], "Montrer l'exemple d'un atelier où un décalage de 15 minutes a divisé par deux l'affluence aux vestiaires."),
        ("3. Hygiène et nettoyage", [
            "Points d'eau et de gel à chaque zone",
            "Nettoyage planifié des surfaces partagées",
            "Fiche de suivi affichée et contrôlée",
        ], "Renvoyer vers le protocole de nettoyage du kit pour les fréquences détaillées."),
        ("4. Gérer un cas suspect", [
            "Isoler, protéger, prévenir le référent",
            "Retour à domicile sans transport en commun",
            "Identifier les contacts, nettoyer le poste",
        ], "La procédure doit être connue de tous les chefs d'équipe avant le premier jour."),
        ("5. Accompagner les équipes", [
            "Accueil de reprise par petits groupes",
            "Managers formés à l'écoute",
            "Retour d'expérience hebdomadaire",
        ], "Les opérateurs sont la meilleure source d'amélioration des mesures."),
        ("Ressources du kit COVID-19", [
            "Guide de reprise d'activité en entreprise",
            "Protocole de nettoyage et désinfection",
            "Plan de continuité d'activité — modèle (adhérents)",
            "Checklist sécurité pour les sites de production (EN)",
        ], "Tous les documents sont téléchargeables depuis la bibliothèque du cluster."),
    ],
}

# Webinar of 14 May 2020: slides (-> PDF) and spoken soundtrack / transcript
WEBINAR_TITLE = "Bonnes pratiques pour la reprise — webinaire du 14 mai 2020"
SPEAKERS = {
    "claire": {"name": "Claire Dumas", "role": "déléguée générale", "organisation": CLUSTER, "voice": "fr+f3"},
    "marc": {"name": "Marc Lefèvre", "role": "responsable HSE",
             "organisation": "PME adhérente (mécanique de précision)", "voice": "fr"},
}
# (speaker, transcript text, spoken text, chapter shown on screen)
WEBINAR_CUES = [
    ("claire", "Bonjour à toutes et à tous, bienvenue à ce webinaire du 14 mai.",
     "Bonjour à toutes et à tous, bienvenue à ce webinaire du quatorze mai.", "Introduction"),
    ("claire", "Thème du jour : les bonnes pratiques pour reprendre l'activité.",
     None, "Introduction"),
    ("marc", "Première étape : mettre à jour l'évaluation des risques.",
     None, "1. Évaluer les risques"),
    ("marc", "Ensuite, réorganiser les postes et les flux de circulation.",
     None, "2. Postes et circulation"),
    ("marc", "Le nettoyage des surfaces partagées doit être planifié et tracé.",
     None, "3. Nettoyage et hygiène"),
    ("claire", "Pensez aussi à informer et à rassurer vos équipes.",
     None, "4. Accompagner les équipes"),
    ("claire", "Tous les documents sont dans le kit COVID-19 du cluster.",
     "Tous les documents sont dans le kit covide dix-neuf du cluster.", "Ressources"),
    ("claire", "Merci ! Place maintenant à vos questions.",
     None, "Questions"),
]
DECK_WEBINAR = {
    "title": "Bonnes pratiques pour la reprise",
    "subtitle": "Webinaire du 14 mai 2020 — Claire Dumas et Marc Lefèvre",
    "slides": [
        ("Au programme", [
            "Évaluer les risques avant la reprise",
            "Réorganiser les postes et la circulation",
            "Nettoyage et hygiène au quotidien",
            "Accompagner les équipes",
            "Questions / réponses",
        ], None),
        ("1. Évaluer les risques", [
            "DUERP mis à jour avec le risque de transmission",
            "Situations de travail à moins d'un mètre recensées",
            "Mesures collectives avant les équipements individuels",
        ], None),
        ("2. Postes et circulation", [
            "Postes espacés d'au moins un mètre ou séparés par des écrans",
            "Sens unique matérialisé au sol",
            "Relèves et pauses décalées de 15 minutes",
        ], None),
        ("3. Nettoyage et hygiène", [
            "Surfaces partagées nettoyées à chaque changement d'opérateur",
            "Désinfectant conforme à la norme EN 14476",
            "Fiche de suivi affichée dans chaque zone",
        ], None),
        ("4. Accompagner les équipes", [
            "Accueil de reprise de 30 minutes par petits groupes",
            "Managers préparés à écouter et orienter",
            "Retour d'expérience chaque semaine",
        ], None),
        ("Pour aller plus loin", [
            "Kit COVID-19 du cluster : guide, protocole, modèle de PCA",
            "Enregistrement et transcription réservés aux participants",
            "Prochain webinaire : télétravail et organisation hybride",
        ], None),
    ],
}

WEBINAR_DESCRIPTION = (
    "Troisième séance de la série « Bonnes pratiques pour la reprise ». Une responsable du cluster et un "
    "responsable HSE d'une PME adhérente présentent les étapes clés d'une reprise d'activité en sécurité : "
    "évaluation des risques, réorganisation des postes et des flux, nettoyage, accompagnement des équipes. "
    "Extrait de démonstration de moins de 30 secondes."
)

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def run(cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    try:
        return subprocess.run([str(c) for c in cmd], **kw)
    except subprocess.CalledProcessError as e:  # pragma: no cover - diagnostics
        sys.stderr.write(f"command failed: {' '.join(map(str, cmd))}\n{e.stdout}\n{e.stderr}\n")
        raise


def tool_versions() -> dict[str, str]:
    def first_line(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True)
            out = (p.stdout or p.stderr).strip().splitlines()
            return out[0] if out else "?"
        except FileNotFoundError:
            return "MISSING"

    from importlib.metadata import version

    import docx  # noqa: F401
    import pptx

    return {
        "python": sys.version.split()[0],
        "python-docx": version("python-docx"),
        "python-pptx": version("python-pptx") if pptx else "?",
        "ffmpeg": first_line(["ffmpeg", "-version"]),
        "soffice": first_line(["soffice", "--version"]),
        "espeak-ng": first_line(["espeak-ng", "--version"]),
        "pdftotext": first_line(["pdftotext", "-v"]),
        "file": first_line(["file", "--version"]),
    }


# ---- DOCX -----------------------------------------------------------------


def _set_style_font(style, name, size=None, color=None, bold=None, lang=None):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    style.font.name = name
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if rfonts.get(qn(attr)) is not None:
            del rfonts.attrib[qn(attr)]
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        rfonts.set(qn(attr), name)
    if size is not None:
        style.font.size = size
    if color is not None:
        style.font.color.rgb = color
    if bold is not None:
        style.font.bold = bold
    if lang:
        el = rpr.find(qn("w:lang"))
        if el is None:
            el = OxmlElement("w:lang")
            rpr.append(el)
        el.set(qn("w:val"), lang)


def _shade(cell_or_par, hex_fill):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    if hasattr(cell_or_par, "_tc"):
        pr = cell_or_par._tc.get_or_add_tcPr()
    else:
        pr = cell_or_par._p.get_or_add_pPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_fill)
    pr.append(shd)


def _add_page_number_footer(section, text):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.text = text + " — page "
    run = p.add_run()
    for kind, val in (("begin", None), ("instr", " PAGE "), ("end", None)):
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = val
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        run._r.append(el)
    for r in p.runs:
        r.font.size = __import__("docx").shared.Pt(8)


def build_docx(blocks, path: Path, *, font: str, lang: str, title: str, subject: str, keywords: str,
               footer: str, date: dt.datetime):
    import docx
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt, RGBColor

    accent = RGBColor(0x1F, 0x3A, 0x5F)
    d = docx.Document()
    sec = d.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)  # A4
    sec.left_margin = sec.right_margin = Cm(2.2)
    sec.top_margin = sec.bottom_margin = Cm(2.0)

    st = d.styles
    _set_style_font(st["Normal"], font, Pt(10.5), lang=lang)
    st["Normal"].paragraph_format.space_after = Pt(6)
    st["Normal"].paragraph_format.line_spacing = 1.15
    _set_style_font(st["Title"], font, Pt(22), accent, True, lang)
    _set_style_font(st["Subtitle"], font, Pt(11), RGBColor(0x55, 0x55, 0x55), False, lang)
    _set_style_font(st["Heading 1"], font, Pt(14), accent, True, lang)
    _set_style_font(st["Heading 2"], font, Pt(12), accent, True, lang)
    for name in ("List Bullet", "List Number", "Table Grid"):
        _set_style_font(st[name], font, lang=lang)

    cp = d.core_properties
    cp.title, cp.subject, cp.keywords = title, subject, keywords
    cp.author = cp.last_modified_by = CLUSTER
    cp.language = lang
    cp.created = cp.modified = date
    cp.revision = 1

    _add_page_number_footer(sec, footer)

    for kind, value in blocks:
        if kind == "title":
            d.add_paragraph(value, style="Title")
        elif kind == "subtitle":
            d.add_paragraph(value, style="Subtitle")
        elif kind == "h1":
            d.add_heading(value, level=1)
        elif kind == "h2":
            d.add_heading(value, level=2)
        elif kind == "p":
            d.add_paragraph(value)
        elif kind == "note":
            p = d.add_paragraph()
            r = p.add_run(value)
            r.italic = True
            _shade(p, "EAF1F8")
        elif kind == "ul":
            for item in value:
                d.add_paragraph(item, style="List Bullet")
        elif kind == "ol":
            # explicit numbers: robust across Word / LibreOffice without numbering restarts
            for i, item in enumerate(value, 1):
                p = d.add_paragraph(f"{i}. {item}")
                p.paragraph_format.left_indent = Cm(0.9)
                p.paragraph_format.first_line_indent = Cm(-0.5)
                p.paragraph_format.space_after = Pt(3)
        elif kind == "check":
            for item in value:
                p = d.add_paragraph(f"\u2610  {item}")
                p.paragraph_format.left_indent = Cm(0.9)
                p.paragraph_format.first_line_indent = Cm(-0.6)
                p.paragraph_format.space_after = Pt(3)
        elif kind == "table":
            header, *rows = value
            t = d.add_table(rows=1 + len(rows), cols=len(header))
            t.style = "Table Grid"
            t.alignment = WD_TABLE_ALIGNMENT.CENTER
            for j, h in enumerate(header):
                c = t.cell(0, j)
                c.text = ""
                r = c.paragraphs[0].add_run(h)
                r.bold = True
                r.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
                _shade(c, "1F3A5F")
            for i, row in enumerate(rows, 1):
                for j, v in enumerate(row):
                    t.cell(i, j).text = v
                    if not v:  # empty form rows: give them some height
                        t.cell(i, j).paragraphs[0].paragraph_format.space_after = Pt(10)
            for row in t.rows:
                for c in row.cells:
                    for p in c.paragraphs:
                        p.paragraph_format.space_after = p.paragraph_format.space_after or Pt(2)
                        for r in p.runs:
                            r.font.size = Pt(9)
            d.add_paragraph()
        else:
            raise ValueError(kind)
    d.save(path)
    return path


def soffice_convert(src: Path, fmt: str, outdir: Path, profile: Path) -> Path:
    run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", fmt, "--outdir", outdir, src], timeout=300)
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    if not out.exists():
        raise RuntimeError(f"LibreOffice did not produce {out}")
    return out


# ---- PPTX -----------------------------------------------------------------


def build_pptx(deck, path: Path, *, font: str | None, footer: str, lang: str = "fr-FR"):
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.util import Emu, Inches, Pt

    accent = RGBColor(0x1F, 0x3A, 0x5F)
    gold = RGBColor(0xF2, 0xA9, 0x00)
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    W, H = prs.slide_width, prs.slide_height
    blank = prs.slide_layouts[6]

    cp = prs.core_properties
    cp.title, cp.author, cp.language = deck["title"], CLUSTER, lang

    def style_run(r, size, bold=False, color=None):
        r.font.size = Pt(size)
        r.font.bold = bold
        if font:
            r.font.name = font
        if color is not None:
            r.font.color.rgb = color

    def textbox(slide, x, y, w, h, text, size, bold=False, color=None):
        tb = slide.shapes.add_textbox(x, y, w, h)
        tf = tb.text_frame
        tf.word_wrap = True
        r = tf.paragraphs[0].add_run()
        r.text = text
        style_run(r, size, bold, color)
        return tb

    def band(slide, y, h, color):
        s = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, y, W, h)
        s.fill.solid()
        s.fill.fore_color.rgb = color
        s.line.fill.background()
        return s

    # title slide
    s = prs.slides.add_slide(blank)
    band(s, 0, H, accent)
    band(s, Emu(int(H * 0.62)), Inches(0.12), gold)
    textbox(s, Inches(0.9), Inches(2.0), W - Inches(1.8), Inches(1.6), deck["title"], 40, True,
            RGBColor(0xFF, 0xFF, 0xFF))
    textbox(s, Inches(0.9), Inches(5.0), W - Inches(1.8), Inches(1.0), deck["subtitle"], 20, False,
            RGBColor(0xDD, 0xE6, 0xF0))

    for n, (title, bullets, notes) in enumerate(deck["slides"], 2):
        s = prs.slides.add_slide(blank)
        band(s, 0, Inches(1.3), accent)
        band(s, Inches(1.3), Inches(0.08), gold)
        textbox(s, Inches(0.7), Inches(0.25), W - Inches(1.4), Inches(0.9), title, 30, True,
                RGBColor(0xFF, 0xFF, 0xFF))
        tb = s.shapes.add_textbox(Inches(0.9), Inches(1.9), W - Inches(1.8), H - Inches(2.9))
        tf = tb.text_frame
        tf.word_wrap = True
        for i, b in enumerate(bullets):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            p.space_after = Pt(14)
            r = p.add_run()
            r.text = "\u2022  " + b
            style_run(r, 24, color=RGBColor(0x22, 0x22, 0x22))
        textbox(s, Inches(0.7), H - Inches(0.7), W - Inches(1.4), Inches(0.4), f"{footer}   |   {n}", 11,
                color=RGBColor(0x77, 0x77, 0x77))
        if notes:
            s.notes_slide.notes_text_frame.text = notes
    prs.save(path)
    return path


# ---- Markdown / HTML ------------------------------------------------------


def blocks_to_html(blocks, lang: str) -> str:
    title = next(v for k, v in blocks if k == "title")
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,'DejaVu Sans',sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.55;color:#222}h1,h2{color:#1f3a5f}.subtitle{color:#666}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.35rem .5rem;"
        "text-align:left}th{background:#1f3a5f;color:#fff}</style>",
        "</head>",
        "<body>",
        "<article>",
    ]
    for kind, value in blocks:
        e = html.escape
        if kind == "title":
            out.append(f"<h1>{e(value)}</h1>")
        elif kind == "subtitle":
            out.append(f'<p class="subtitle">{e(value)}</p>')
        elif kind == "h1":
            out.append(f"<h2>{e(value)}</h2>")
        elif kind == "p":
            out.append(f"<p>{e(value)}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in value) + "</ul>")
        elif kind == "table":
            header, *rows = value
            out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead><tbody>")
            for row in rows:
                out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
            out.append("</tbody></table>")
        else:
            raise ValueError(kind)
    out += ["</article>", "</body>", "</html>", ""]
    return "\n".join(out)


# ---- Webinar video --------------------------------------------------------


def _wav_frames(path: Path):
    with wave.open(str(path)) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.readframes(w.getnframes())


def vtt_time(t: float) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def build_webinar(out: Path, tmp: Path, stem: str):
    """Speech per cue with espeak-ng -> one WAV with measured cue times -> MP4 + VTT."""
    gap, lead, tail = 0.45, 0.6, 1.2
    speed = 165
    for _attempt in range(4):
        pcm = bytearray()
        rate = None
        cues = []
        t = lead
        for i, (spk, text, spoken, chapter) in enumerate(WEBINAR_CUES):
            w = tmp / f"cue{i}.wav"
            run(["espeak-ng", "-v", SPEAKERS[spk]["voice"], "-s", speed, "-w", w, spoken or text])
            r, ch, sw, frames = _wav_frames(w)
            assert ch == 1 and sw == 2, "espeak-ng is expected to write mono 16-bit WAV"
            if rate is None:
                rate = r
                pcm += b"\0\0" * int(lead * rate)
            dur = len(frames) / 2 / rate
            cues.append((t, t + dur, spk, text, chapter))
            pcm += frames + b"\0\0" * int(gap * rate)
            t += dur + gap
        total = t - gap + tail
        if total <= 29.0:
            break
        speed += 15  # too long: speak faster and try again
    if not 20.0 <= total <= 30.0:
        total = max(total, 20.0)
    pcm += b"\0\0" * max(0, int(total * rate) - len(pcm) // 2)
    pcm = pcm[: int(total * rate) * 2]
    audio = tmp / "soundtrack.wav"
    with wave.open(str(audio), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(pcm))

    # WebVTT transcript, with voice spans
    lines = ["WEBVTT", "",
             "NOTE", f"{WEBINAR_TITLE}.", f"Transcription — {CLUSTER}.", ""]
    for n, (a, b, spk, text, _chapter) in enumerate(cues, 1):
        lines += [f"cue-{n}", f"{vtt_time(a)} --> {vtt_time(b)}", f"<v {SPEAKERS[spk]['name']}>{text}", ""]
    (out / f"{stem}.fr.vtt").write_text("\n".join(lines), encoding="utf-8")

    # Video: static "slide" frames with drawtext; chapters and speaker change with the cues
    def txt(name, value):
        p = tmp / f"{name}.txt"
        p.write_text(value, encoding="utf-8")
        return p

    def esc(p: Path) -> str:  # filtergraph-safe path
        return str(p).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")

    fb, fr = esc(FONT_BOLD), esc(FONT)
    filters = [
        "drawbox=x=0:y=0:w=iw:h=56:color=0x16293f:t=fill",
        f"drawtext=fontfile='{fr}':textfile='{esc(txt('hdr', CLUSTER + '  ·  Webinaire'))}':expansion=none:"
        "fontsize=18:fontcolor=0xDDE6F0:x=24:y=19",
        f"drawtext=fontfile='{fr}':textfile='{esc(txt('date', '14 mai 2020'))}':expansion=none:"
        "fontsize=18:fontcolor=0xF2A900:x=w-text_w-24:y=19",
        f"drawtext=fontfile='{fb}':textfile='{esc(txt('title', 'Bonnes pratiques pour la reprise'))}':"
        "expansion=none:fontsize=30:fontcolor=white:x=(w-text_w)/2:y=92",
        "drawbox=x=(iw-420)/2:y=138:w=420:h=3:color=0xF2A900:t=fill",
    ]
    # chapters: merge consecutive cues with the same chapter
    chapters = []
    for a, b, _spk, _text, chap in cues:
        if chapters and chapters[-1][2] == chap:
            chapters[-1][1] = b
        else:
            chapters.append([a, b, chap])
    for k, (a, _b, chap) in enumerate(chapters):
        start = 0.0 if k == 0 else a - gap / 2
        end = total if k == len(chapters) - 1 else chapters[k + 1][0] - gap / 2
        filters.append(
            f"drawtext=fontfile='{fb}':textfile='{esc(txt(f'chap{k}', chap))}':expansion=none:fontsize=34:"
            f"fontcolor=white:x=(w-text_w)/2:y=190:enable='between(t,{start:.3f},{end:.3f})'")
    for k, (a, b, spk, _text, _chap) in enumerate(cues):
        who = f"{SPEAKERS[spk]['name']}, {SPEAKERS[spk]['role']} — {SPEAKERS[spk]['organisation']}"
        end = b + gap if k < len(cues) - 1 else total
        filters.append(
            f"drawtext=fontfile='{fr}':textfile='{esc(txt(f'spk{k}', who))}':expansion=none:fontsize=14:"
            f"fontcolor=0xDDE6F0:box=1:boxcolor=0x000000@0.45:boxborderw=6:x=24:y=h-52:"
            f"enable='between(t,{a:.3f},{end:.3f})'")
    filters.append(f"drawbox=x=0:y=ih-8:w='iw*t/{total:.3f}':h=8:color=0xF2A900:t=fill")
    script = tmp / "filters.txt"
    script.write_text(",\n".join(filters), encoding="utf-8")

    mp4 = out / f"{stem}.mp4"
    run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"color=c=0x1f3a5f:s=640x360:r=15:d={total:.3f}",
         "-i", audio,
         "-filter_script:v", script,
         "-map", "0:v", "-map", "1:a",
         "-c:v", "libx264", "-preset", "slow", "-tune", "stillimage", "-crf", "26",
         "-profile:v", "main", "-pix_fmt", "yuv420p", "-g", "150",
         "-c:a", "aac", "-b:a", "48k", "-ar", "44100", "-ac", "1",
         "-metadata", f"title={WEBINAR_TITLE}", "-metadata", f"artist={CLUSTER}",
         "-metadata", "date=2020-05-14", "-metadata:s:a:0", "language=fra",
         "-movflags", "+faststart", "-shortest", mp4], timeout=600)
    return mp4, total, cues


# --------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------

STEM = "webinaire-reprise-2020-05-14"

RESOURCES = [
    {"file": "guide-reprise-activite.pdf", "title": "Guide de reprise d'activité en entreprise",
     "summary": "Les étapes clés pour préparer et réussir le retour sur site : évaluation des risques, organisation "
                "des espaces et des flux, hygiène, conduite à tenir face à un cas suspect, accompagnement des "
                "équipes, calendrier type de J-10 à J+30.",
     "language": "fr", "tags": ["covid-19", "reprise", "securite", "hygiene"], "kind": "document",
     "visibility": "public", "published_at": "2020-05-11"},
    {"file": "protocole-nettoyage-desinfection.docx",
     "title": "Protocole de nettoyage et désinfection des postes de travail",
     "summary": "Fiche pratique modifiable : produits (virucide EN 14476), fréquences par type de surface, mode "
                "opératoire en sept étapes, cas d'un salarié symptomatique et fiche de traçabilité.",
     "language": "fr", "tags": ["covid-19", "hygiene", "securite"], "kind": "document",
     "visibility": "public", "published_at": "2020-05-06"},
    {"file": "plan-continuite-activite-modele.odt", "title": "Plan de continuité d'activité — modèle",
     "summary": "Modèle de PCA à compléter : cellule de crise, activités essentielles et durées d'interruption "
                "admissibles, niveaux de réponse, ressources critiques, communication et mise à jour.",
     "language": "fr", "tags": ["covid-19", "continuite", "rh"], "kind": "document",
     "visibility": "members", "published_at": "2020-04-20"},
    {"file": "reprendre-activite-en-securite.pptx", "title": "Reprendre l'activité en sécurité",
     "summary": "Support de présentation en huit diapositives, avec notes de l'orateur, pour animer une réunion "
                "de reprise avec les managers ou le CSE.",
     "language": "fr", "tags": ["covid-19", "reprise", "securite"], "kind": "slides",
     "visibility": "public", "published_at": "2020-05-12"},
    {"file": "appel-a-projets-relance-industrielle-2020.md", "title": "Appel à projets : relance industrielle 2020",
     "summary": "Actualité : appel à projets régional pour la modernisation, la relocalisation et la résilience "
                "des PME et ETI industrielles ; dépôt avant le 16 novembre 2020, accompagnement du cluster.",
     "language": "fr", "tags": ["appels-a-projets", "relance", "financement"], "kind": "document",
     "visibility": "public", "published_at": "2020-09-15"},
    {"file": "workplace-safety-checklist.pdf", "title": "Workplace safety checklist for manufacturing sites",
     "summary": "A printable walk-through checklist for restarting a production site: before restart, access and "
                "circulation, workstations, shared facilities, suspected cases, people and communication.",
     "language": "en", "tags": ["covid-19", "securite", "reprise", "checklist"], "kind": "document",
     "visibility": "public", "published_at": "2020-05-18"},
    {"file": "remote-work-policy-template.docx", "title": "Remote work policy template",
     "summary": "An editable policy template covering eligibility, working time and the right to disconnect, "
                "equipment and costs, data security, health and well-being, and yearly review.",
     "language": "en", "tags": ["teletravail", "rh"], "kind": "document",
     "visibility": "members", "published_at": "2020-06-02"},
    {"file": "supply-chain-resilience-after-covid-19.html", "title": "Supply chain resilience after COVID-19",
     "summary": "Briefing note on what cluster members learned in spring 2020: map beyond tier one, risk-based "
                "buffer stocks, early second sources, regional sourcing and information sharing.",
     "language": "en", "tags": ["supply-chain", "covid-19", "resilience"], "kind": "document",
     "visibility": "public", "published_at": "2020-07-08"},
    {"file": f"{STEM}.mp4", "title": WEBINAR_TITLE,
     "summary": "Enregistrement (extrait) du webinaire du 14 mai 2020 : évaluation des risques, postes et "
                "circulation, nettoyage, accompagnement des équipes.",
     "language": "fr", "tags": ["covid-19", "reprise", "webinaire"], "kind": "recording",
     "visibility": "attendees", "published_at": "2020-05-15"},
    {"file": f"{STEM}.fr.vtt", "title": "Transcription — " + WEBINAR_TITLE,
     "summary": "Transcription horodatée (WebVTT) de l'enregistrement, avec le nom des intervenants.",
     "language": "fr", "tags": ["covid-19", "reprise", "webinaire"], "kind": "transcript",
     "visibility": "attendees", "published_at": "2020-05-15"},
    {"file": f"{STEM}-slides.pdf", "title": "Supports — " + WEBINAR_TITLE,
     "summary": "Diapositives présentées pendant le webinaire du 14 mai 2020.",
     "language": "fr", "tags": ["covid-19", "reprise", "webinaire"], "kind": "slides",
     "visibility": "public", "published_at": "2020-05-14"},
    {"file": "note-interne-organisation-webinaires.md",
     "title": "Note interne : organisation des webinaires « Bonnes pratiques pour la reprise »",
     "summary": "Rétroplanning, rôles pendant la séance, mise en ligne des enregistrements et bilan de "
                "fréquentation de la série. Réservé à l'équipe du cluster.",
     "language": "fr", "tags": ["webinaire", "interne"], "kind": "document",
     "visibility": "staff", "published_at": "2020-05-20"},
    {"url": "https://example.org/covid-19/employer-faq",
     "title": "FAQ employeurs COVID-19 (ressource externe)",
     "summary": "Lien vers une foire aux questions externe destinée aux employeurs (adresse d'exemple dans la "
                "bibliothèque de démonstration).",
     "language": "fr", "tags": ["covid-19", "rh"], "kind": "link",
     "visibility": "public", "published_at": "2020-05-07"},
]

KITS = [
    {"slug": "covid-19-kit", "title": "COVID-19 KIT",
     "description": "Documents pratiques rassemblés par le cluster pour aider les entreprises, laboratoires et "
                    "écoles à reprendre leur activité en sécurité : guides, protocoles, modèles et supports des "
                    "webinaires « Bonnes pratiques pour la reprise ».",
     "items": ["guide-reprise-activite.pdf", "protocole-nettoyage-desinfection.docx",
               "plan-continuite-activite-modele.odt", "reprendre-activite-en-securite.pptx",
               "workplace-safety-checklist.pdf", "remote-work-policy-template.docx",
               "supply-chain-resilience-after-covid-19.html", f"{STEM}-slides.pdf",
               f"{STEM}.mp4", f"{STEM}.fr.vtt", "https://example.org/covid-19/employer-faq"]},
]

WEBINARS = [
    {"title": WEBINAR_TITLE, "description": WEBINAR_DESCRIPTION,
     "starts_at": "2020-05-14T10:00:00+02:00",
     "speakers": [{"name": SPEAKERS[k]["name"], "organisation": SPEAKERS[k]["organisation"]}
                  for k in ("claire", "marc")],
     "recording": f"{STEM}.mp4", "slides": f"{STEM}-slides.pdf", "transcript": f"{STEM}.fr.vtt",
     "kit": "covid-19-kit"},
]

KINDS = {"document", "recording", "slides", "transcript", "link"}
VISIBILITIES = {"public", "members", "attendees", "staff"}


def write_manifest(out: Path):
    data = {"resources": RESOURCES, "kits": KITS, "webinars": WEBINARS}
    (out / "manifest.json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------


def build(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():
        if p.name in KEEP:
            continue
        shutil.rmtree(p) if p.is_dir() else p.unlink()

    with tempfile.TemporaryDirectory(prefix="kitlib-demo-") as t:
        tmp = Path(t)
        profile = tmp / "lo-profile"
        work = tmp / "work"
        work.mkdir()

        print("- guide-reprise-activite.pdf (python-docx -> LibreOffice PDF)")
        src = build_docx(GUIDE_REPRISE, work / "guide-reprise-activite.docx", font="DejaVu Sans", lang="fr-FR",
                         title="Guide de reprise d'activité en entreprise", subject="Kit COVID-19",
                         keywords="covid-19, reprise, sécurité, hygiène",
                         footer=f"{CLUSTER} — Guide de reprise d'activité", date=dt.datetime(2020, 5, 11, 9, 0))
        shutil.copy(soffice_convert(src, "pdf", work, profile), out)

        print("- protocole-nettoyage-desinfection.docx (python-docx)")
        build_docx(PROTOCOLE_NETTOYAGE, out / "protocole-nettoyage-desinfection.docx", font="Calibri",
                   lang="fr-FR", title="Protocole de nettoyage et désinfection des postes de travail",
                   subject="Kit COVID-19", keywords="covid-19, hygiène, nettoyage, désinfection",
                   footer=f"{CLUSTER} — Protocole de nettoyage", date=dt.datetime(2020, 5, 6, 9, 0))

        print("- plan-continuite-activite-modele.odt (python-docx -> LibreOffice ODT)")
        src = build_docx(PLAN_CONTINUITE, work / "plan-continuite-activite-modele.docx", font="DejaVu Sans",
                         lang="fr-FR", title="Plan de continuité d'activité — modèle", subject="Kit COVID-19",
                         keywords="PCA, continuité, crise", footer=f"{CLUSTER} — Modèle de PCA",
                         date=dt.datetime(2020, 4, 20, 9, 0))
        shutil.copy(soffice_convert(src, "odt", work, profile), out)

        print("- workplace-safety-checklist.pdf (python-docx -> LibreOffice PDF)")
        src = build_docx(CHECKLIST_EN, work / "workplace-safety-checklist.docx", font="DejaVu Sans", lang="en-GB",
                         title="Workplace safety checklist for manufacturing sites", subject="COVID-19 KIT",
                         keywords="covid-19, safety, checklist, manufacturing",
                         footer=f"{CLUSTER} — Workplace safety checklist", date=dt.datetime(2020, 5, 18, 9, 0))
        shutil.copy(soffice_convert(src, "pdf", work, profile), out)

        print("- remote-work-policy-template.docx (python-docx)")
        build_docx(REMOTE_WORK_EN, out / "remote-work-policy-template.docx", font="Calibri", lang="en-GB",
                   title="Remote work policy template", subject="COVID-19 KIT",
                   keywords="remote work, HR, policy, template",
                   footer=f"{CLUSTER} — Remote work policy template", date=dt.datetime(2020, 6, 2, 9, 0))

        print("- reprendre-activite-en-securite.pptx (python-pptx)")
        build_pptx(DECK_REPRISE, out / "reprendre-activite-en-securite.pptx", font=None,
                   footer=f"{CLUSTER} — Reprendre l'activité en sécurité")

        print(f"- {STEM}-slides.pdf (python-pptx -> LibreOffice Impress PDF)")
        src = build_pptx(DECK_WEBINAR, work / f"{STEM}-slides.pptx", font="DejaVu Sans",
                         footer="Webinaire du 14 mai 2020 — Bonnes pratiques pour la reprise")
        shutil.copy(soffice_convert(src, "pdf", work, profile), out)

        print("- Markdown / HTML items")
        (out / "appel-a-projets-relance-industrielle-2020.md").write_text(APPEL_A_PROJETS_MD, encoding="utf-8")
        (out / "note-interne-organisation-webinaires.md").write_text(NOTE_INTERNE_MD, encoding="utf-8")
        (out / "supply-chain-resilience-after-covid-19.html").write_text(
            blocks_to_html(SUPPLY_CHAIN_BLOCKS, "en"), encoding="utf-8")

        print(f"- {STEM}.mp4 + .fr.vtt (espeak-ng + ffmpeg)")
        _, total, cues = build_webinar(out, tmp, STEM)
        print(f"  duration {total:.2f} s, {len(cues)} cues")

    write_manifest(out)


# --------------------------------------------------------------------------
# Verify
# --------------------------------------------------------------------------

EXPECTED_MIME = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".mp4": "video/mp4",
    ".vtt": "text/vtt",
    ".html": "text/html",
    ".md": "text/plain",
    ".json": "application/json",
}

PDF_MUST_CONTAIN = {
    "guide-reprise-activite.pdf": ["Guide de reprise d'activité en entreprise", "Hygiène et nettoyage", "Conduite à tenir",
                                   "désinfecter", "comité social et économique"],
    "workplace-safety-checklist.pdf": ["Workplace safety checklist", "Suspected case procedure", "\u2610"],
    f"{STEM}-slides.pdf": ["Bonnes pratiques pour la reprise", "Évaluer les risques", "norme EN 14476"],
}


def mp4_top_level_boxes(path: Path) -> list[str]:
    boxes = []
    with Path(path).open("rb") as f:
        while True:
            head = f.read(8)
            if len(head) < 8:
                break
            size, kind = struct.unpack(">I4s", head)
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0]
                f.seek(size - 16, 1)
            elif size == 0:
                boxes.append(kind.decode("latin-1"))
                break
            else:
                f.seek(size - 8, 1)
            boxes.append(kind.decode("latin-1"))
    return boxes


def verify(out: Path) -> list[str]:
    import docx
    from pptx import Presentation

    errors: list[str] = []

    def check(cond, msg):
        print(("  ok   " if cond else "  FAIL ") + msg)
        if not cond:
            errors.append(msg)

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = sorted(p for p in out.iterdir() if p.is_file() and p.name not in KEEP)

    print("file types:")
    for p in files:
        mime = run(["file", "-b", "--mime-type", p]).stdout.strip()
        desc = run(["file", "-b", p]).stdout.strip()
        exp = EXPECTED_MIME.get(p.suffix)
        ok = mime == exp or (p.suffix == ".md" and mime.startswith("text/")) or \
            (p.suffix == ".json" and mime in ("application/json", "text/plain"))
        check(ok, f"{p.name}: {mime} ({desc[:70]})")

    print("PDF text (pdftotext):")
    for name, needles in PDF_MUST_CONTAIN.items():
        text = run(["pdftotext", "-enc", "UTF-8", out / name, "-"]).stdout
        text_flat = re.sub(r"\s+", " ", text)
        info = run(["pdfinfo", out / name]).stdout
        pages = re.search(r"Pages:\s+(\d+)", info)
        for n in needles:
            check(n in text_flat, f"{name} contains {n!r}")
        check(pages is not None and int(pages.group(1)) >= 2, f"{name}: {pages.group(1) if pages else '?'} pages")

    print("Office documents reopen:")
    for name in ("protocole-nettoyage-desinfection.docx", "remote-work-policy-template.docx"):
        d = docx.Document(out / name)
        words = sum(len(p.text.split()) for p in d.paragraphs)
        check(words > 300 and len(d.tables) >= 1, f"{name}: {len(d.paragraphs)} paragraphs, {words} words, "
                                                  f"{len(d.tables)} tables, title={d.core_properties.title!r}")
    with zipfile.ZipFile(out / "plan-continuite-activite-modele.odt") as z:
        first = z.infolist()[0]
        content = z.read("content.xml").decode("utf-8")
        check(first.filename == "mimetype" and z.read("mimetype") == b"application/vnd.oasis.opendocument.text"
              and "Cellule de crise" in content and "activités essentielles" in content.lower(),
              "plan-continuite-activite-modele.odt: valid ODF package with the French text")
    prs = Presentation(out / "reprendre-activite-en-securite.pptx")
    notes = sum(1 for s in prs.slides if s.has_notes_slide and s.notes_slide.notes_text_frame.text)
    check(len(prs.slides) >= 6, f"reprendre-activite-en-securite.pptx: {len(prs.slides)} slides, {notes} with notes")

    print("Webinar video (ffprobe):")
    mp4 = out / f"{STEM}.mp4"
    probe = json.loads(run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                            mp4]).stdout)
    v = next(s for s in probe["streams"] if s["codec_type"] == "video")
    a = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    duration = float(probe["format"]["duration"])
    check(20.0 <= duration <= 30.5, f"duration {duration:.2f} s")
    check(v["codec_name"] == "h264" and v["width"] <= 640 and v["height"] <= 360,
          f"video {v['codec_name']} {v.get('profile')} {v['width']}x{v['height']} {v['pix_fmt']}")
    check(a["codec_name"] == "aac", f"audio {a['codec_name']} {a['sample_rate']} Hz {a['channels']} ch")
    boxes = mp4_top_level_boxes(mp4)
    check("moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat"),
          f"faststart: top-level boxes {boxes}")
    check(mp4.stat().st_size < MAX_VIDEO_BYTES, f"size {mp4.stat().st_size} bytes < {MAX_VIDEO_BYTES}")

    print("Transcript (WebVTT):")
    vtt = (out / f"{STEM}.fr.vtt").read_text(encoding="utf-8")
    times = re.findall(r"^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})$", vtt, re.M)

    def secs(s):
        h, m, rest = s.split(":")
        return int(h) * 3600 + int(m) * 60 + float(rest)

    spans = [(secs(x), secs(y)) for x, y in times]
    ordered = all(s < e for s, e in spans) and all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    check(vtt.startswith("WEBVTT") and 6 <= len(spans) <= 10 and ordered and spans[-1][1] <= duration,
          f"{len(spans)} cues, ordered, last ends at {spans[-1][1]:.2f} s <= {duration:.2f} s")

    print("Manifest:")
    res = manifest["resources"]
    by_key = {r.get("file") or r.get("url"): r for r in res}
    referenced = {r["file"] for r in res if "file" in r}
    on_disk = {p.name for p in files if p.name != "manifest.json"}
    check(referenced == on_disk, f"every file listed and present (missing={sorted(referenced - on_disk)}, "
                                 f"unlisted={sorted(on_disk - referenced)})")
    for r in res:
        ok = (r["kind"] in KINDS and r["visibility"] in VISIBILITIES and r["language"] in ("fr", "en")
              and re.fullmatch(r"\d{4}-\d\d-\d\d", r["published_at"])
              and all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", t) for t in r["tags"])
              and (("file" in r) != ("url" in r)) and (r["kind"] == "link") == ("url" in r))
        if not ok:
            check(False, f"resource fields: {r.get('file') or r.get('url')}")
    check(True, f"{len(res)} resources with valid kind/visibility/language/tags/dates")
    slugs = {k["slug"] for k in manifest["kits"]}
    for k in manifest["kits"]:
        check(all(i in by_key for i in k["items"]), f"kit {k['slug']}: {len(k['items'])} items resolve")
    for w in manifest["webinars"]:
        refs = [w["recording"], w["slides"], w["transcript"]]
        check(all(x in by_key for x in refs) and w["kit"] in slugs
              and dt.datetime.fromisoformat(w["starts_at"]).tzinfo is not None,
              f"webinar {w['title'][:40]}…: recording/slides/transcript/kit resolve")

    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    print("Sizes:")
    for p in files:
        print(f"  {p.stat().st_size:>9}  {p.name}")
    check(total < MAX_TOTAL_BYTES, f"total {total} bytes < {MAX_TOTAL_BYTES}")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--verify-only", action="store_true")
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args()
    try:
        import docx  # noqa: F401
        import pptx  # noqa: F401
    except ImportError:
        sys.exit("python-docx and python-pptx are needed: python3 -m venv /tmp/venv-demo && "
                 "/tmp/venv-demo/bin/pip install python-docx python-pptx")
    for tool in ("ffmpeg", "ffprobe", "soffice", "espeak-ng", "pdftotext", "pdfinfo", "file"):
        if shutil.which(tool) is None:
            sys.exit(f"missing tool: {tool} (see the apt-get line in this script's docstring)")

    print("tool versions:")
    for k, v in tool_versions().items():
        print(f"  {k}: {v}")
    if not args.verify_only:
        build(args.out)
    if not args.no_verify:
        errors = verify(args.out)
        if errors:
            sys.exit(f"{len(errors)} verification error(s)")
        print("all checks passed")


if __name__ == "__main__":
    main()
